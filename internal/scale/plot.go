package main

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"os"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// The plot is drawn with the standard library and x/image's fixed bitmap
// font: a plotting library would pull a dozen modules into the product's
// go.mod for two line charts.

type series struct {
	name string
	c    color.RGBA
	ys   []float64
}

type panel struct {
	title, xlabel, ylabel string
	xs                    []float64
	lines                 []series
}

var (
	black = color.RGBA{0, 0, 0, 255}
	grey  = color.RGBA{210, 210, 210, 255}
	blue  = color.RGBA{31, 119, 180, 255}
	red   = color.RGBA{214, 39, 40, 255}
	green = color.RGBA{44, 160, 44, 255}
)

// writePlot draws tick duration and RSS against pods, side by side.
func writePlot(path string, steps []stepResult) error {
	xs := make([]float64, len(steps))
	var p50, p99, mean, rss, peak []float64
	for i, s := range steps {
		xs[i] = float64(s.Pods)
		p50, p99, mean = append(p50, s.TickP50ms), append(p99, s.TickP99ms), append(mean, s.TickMeanms)
		rss, peak = append(rss, s.RSSBytes/mib), append(peak, s.PeakRSSBytes/mib)
	}
	const w, h = 1000, 420
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	drawPanel(img, image.Rect(0, 0, w/2, h), panel{
		title: "statusd tick duration", xlabel: "pods", ylabel: "ms", xs: xs,
		lines: []series{{"p50", blue, p50}, {"p99", red, p99}, {"mean", green, mean}},
	})
	drawPanel(img, image.Rect(w/2, 0, w, h), panel{
		title: "statusd memory", xlabel: "pods", ylabel: "MiB", xs: xs,
		lines: []series{{"RSS", blue, rss}, {"peak RSS", red, peak}},
	})
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create plot: %w", err)
	}
	if err := png.Encode(f, img); err != nil {
		_ = f.Close()
		return fmt.Errorf("encode plot: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write plot: %w", err)
	}
	return nil
}

func drawPanel(img *image.RGBA, r image.Rectangle, p panel) {
	plot := image.Rect(r.Min.X+70, r.Min.Y+40, r.Max.X-20, r.Max.Y-60)
	text(img, r.Min.X+(r.Dx()-7*len(p.title))/2, r.Min.Y+22, p.title, black)
	xmax, ymax := 1.0, 1.0
	for _, x := range p.xs {
		xmax = max(xmax, x)
	}
	for _, s := range p.lines {
		for _, y := range s.ys {
			ymax = max(ymax, y)
		}
	}
	xmax, ymax = niceCeil(xmax), niceCeil(ymax*1.1)
	px := func(x float64) int { return plot.Min.X + int(x/xmax*float64(plot.Dx())) }
	py := func(y float64) int { return plot.Max.Y - int(y/ymax*float64(plot.Dy())) }
	for i := 0; i <= 5; i++ {
		y := ymax * float64(i) / 5
		hline(img, plot.Min.X, plot.Max.X, py(y), grey)
		label := trimFloat(y)
		text(img, plot.Min.X-8-7*len(label), py(y)+4, label, black)
		x := xmax * float64(i) / 5
		vline(img, px(x), plot.Min.Y, plot.Max.Y, grey)
		label = trimFloat(x)
		text(img, px(x)-7*len(label)/2, plot.Max.Y+18, label, black)
	}
	hline(img, plot.Min.X, plot.Max.X, plot.Max.Y, black)
	vline(img, plot.Min.X, plot.Min.Y, plot.Max.Y, black)
	text(img, plot.Min.X+(plot.Dx()-7*len(p.xlabel))/2, plot.Max.Y+40, p.xlabel, black)
	text(img, r.Min.X+8, plot.Min.Y-8, p.ylabel, black)
	for li, s := range p.lines {
		for i := range s.ys {
			x, y := px(p.xs[i]), py(s.ys[i])
			for dx := -3; dx <= 3; dx++ {
				for dy := -3; dy <= 3; dy++ {
					img.Set(x+dx, y+dy, s.c)
				}
			}
			if i > 0 {
				line(img, px(p.xs[i-1]), py(s.ys[i-1]), x, y, s.c)
			}
		}
		lx, ly := plot.Min.X+12, plot.Min.Y+14+16*li
		hline(img, lx, lx+20, ly-4, s.c)
		hline(img, lx, lx+20, ly-3, s.c)
		text(img, lx+26, ly, s.name, black)
	}
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	e := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*e >= v {
			return m * e
		}
	}
	return 10 * e
}

func trimFloat(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

func text(img *image.RGBA, x, y int, s string, c color.Color) {
	d := font.Drawer{Dst: img, Src: image.NewUniform(c), Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

func hline(img *image.RGBA, x0, x1, y int, c color.Color) {
	for x := x0; x <= x1; x++ {
		img.Set(x, y, c)
	}
}

func vline(img *image.RGBA, x, y0, y1 int, c color.Color) {
	for y := y0; y <= y1; y++ {
		img.Set(x, y, c)
	}
}

// line draws a two-pixel-wide segment by stepping along its longer axis.
func line(img *image.RGBA, x0, y0, x1, y1 int, c color.Color) {
	n := max(abs(x1-x0), abs(y1-y0), 1)
	for i := 0; i <= n; i++ {
		x := x0 + (x1-x0)*i/n
		y := y0 + (y1-y0)*i/n
		img.Set(x, y, c)
		img.Set(x, y+1, c)
		img.Set(x+1, y, c)
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
