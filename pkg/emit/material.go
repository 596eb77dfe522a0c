package emit

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// livePlaceholder stands for a live figure in a message's material form.
const livePlaceholder = "#"

// Material returns the part of an Event message whose change is worth a
// write at once: the message with every live figure (a number, a number
// with a unit, a duration, a timestamp or clock time, a ratio such as 0/3 or
// a percentage) replaced by "#". Two messages with the same material form
// say the same thing about the fault with drifted evidence ("deleting for
// 23s" and "for 24s", "12 requests waiting" and "14"); the Writer carries
// such a drift at the next heartbeat instead of patching the Event on every
// tick.
//
// Everything else is material: words (a condition's reason, a waiting
// reason, "above" or "below"), names (a pod, a container, an image), and any
// word that mixes letters and digits other than units, so that web-0 and
// web-1, a pod-template hash or a version such as v1.29.3 stay apart.
//
// A word is a run of characters between white space and the punctuation
// ( ) [ ] { } , ; = " ' ` < > |. It is live when it holds a digit and every
// other character is one of . : / - + % or belongs to a run of letters that
// is a unit (see units). Sentence punctuation at the end of a word stays:
// "23s." becomes "#.".
func Material(msg string) string {
	var b strings.Builder
	b.Grow(len(msg))
	start := -1 // start of the current word, or -1 between words
	flush := func(end int) {
		if start < 0 {
			return
		}
		w := msg[start:end]
		// Sentence punctuation stays: "23s." reads "#.".
		core := strings.TrimRight(w, ".:")
		if liveWord(core) {
			b.WriteString(livePlaceholder)
			b.WriteString(w[len(core):])
		} else {
			b.WriteString(w)
		}
		start = -1
	}
	for i, r := range msg {
		if separator(r) {
			flush(i)
			b.WriteRune(r)
			continue
		}
		if start < 0 {
			start = i
		}
	}
	flush(len(msg))
	return b.String()
}

// separator reports whether r ends a word.
func separator(r rune) bool {
	if unicode.IsSpace(r) {
		return true
	}
	switch r {
	case '(', ')', '[', ']', '{', '}', ',', ';', '=', '"', '\'', '`', '<', '>', '|':
		return true
	}
	return false
}

// units are the letter runs a live word may hold beside its digits:
// duration units (Go's and humanDuration's), the T and Z of RFC 3339,
// Kubernetes quantity suffixes, byte units, an exponent's e and a
// multiplier's x. The set is closed on purpose: a run of letters that is not
// a unit makes the word a name.
var units = map[string]bool{
	"ns": true, "us": true, "µs": true, "ms": true, "s": true, "m": true, "h": true, "d": true, "w": true, "y": true,
	"T": true, "Z": true, "UTC": true,
	"k": true, "K": true, "M": true, "G": true, "P": true, "E": true,
	"Ki": true, "Mi": true, "Gi": true, "Ti": true, "Pi": true, "Ei": true,
	"B": true, "KB": true, "MB": true, "GB": true, "TB": true, "KiB": true, "MiB": true, "GiB": true, "TiB": true,
	"e": true, "x": true,
}

// liveWord reports whether w is a live figure (see Material).
func liveWord(w string) bool {
	digit := false
	for i := 0; i < len(w); {
		r, size := utf8.DecodeRuneInString(w[i:])
		switch {
		case r >= '0' && r <= '9':
			digit = true
			i += size
		case r == '.' || r == ':' || r == '/' || r == '-' || r == '+' || r == '%':
			i += size
		case unicode.IsLetter(r):
			j := i + size
			for j < len(w) {
				r, size := utf8.DecodeRuneInString(w[j:])
				if !unicode.IsLetter(r) {
					break
				}
				j += size
			}
			if !units[w[i:j]] {
				return false
			}
			i = j
		default:
			return false
		}
	}
	return digit
}
