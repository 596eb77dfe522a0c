package emit

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"unicode/utf8"

	"statusd.io/statusd/pkg/engine"
)

// Lengths of the readable parts of an Event name; with the hash and dots the
// name stays far below the 253 characters of a DNS subdomain.
const (
	nameSubjectPart = 63
	nameReasonPart  = 63
	nameHashHex     = 16
)

// EventName is the name of the Event for reason on subject, the same in
// every process and across catalogue versions: readable parts (the
// subject's name and the reason, lowercased) for kubectl, then 64 bits of
// the SHA-256 of the subject's UID (Subject.ID) and the reason, which carry
// the identity. Two subjects of the same name in different namespaces, or
// an object deleted and recreated under the same name, get different
// Events.
func EventName(s engine.Subject, reason string) string {
	return eventName(s, reason, "")
}

// ResolvedEventName is the name of the Normal <Reason>Resolved Event for
// reason on subject. It differs from EventName(s, reason+"Resolved") so that
// a reason whose own name ends in "Resolved" cannot collide with it.
func ResolvedEventName(s engine.Subject, reason string) string {
	return eventName(s, reason, "resolved")
}

func eventName(s engine.Subject, reason, suffix string) string {
	h := sha256.New()
	h.Write([]byte(s.ID()))
	h.Write([]byte{0})
	h.Write([]byte(reason))
	if suffix != "" {
		h.Write([]byte{0})
		h.Write([]byte(suffix))
	}
	sum := hex.EncodeToString(h.Sum(nil))[:nameHashHex]
	subject := dnsLabel(s.Name, nameSubjectPart)
	if subject == "" {
		subject = dnsLabel(s.Kind, nameSubjectPart)
	}
	r := dnsLabel(reason, nameReasonPart-len(suffix)-1)
	if suffix != "" {
		r += "-" + suffix
	}
	parts := make([]string, 0, 3)
	for _, p := range []string{subject, r, sum} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ".")
}

// dnsLabel lowercases s and maps it onto [a-z0-9-], collapsing runs of
// other characters into one '-', trimming '-' at both ends and cutting it to
// at most max bytes: a valid DNS label, or "".
func dnsLabel(s string, limit int) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		default:
			dash = true
		}
		if b.Len() >= limit {
			break
		}
	}
	out := b.String()
	if len(out) > limit {
		out = out[:limit]
	}
	return strings.Trim(out, "-")
}

// ellipsis marks a cut message.
const ellipsis = "…"

// runMarker starts the command a catalogue message ends with ("... Run:
// kubectl ..."): the part an operator acts on, kept whole by truncate.
const runMarker = " Run: "

// truncate returns msg as valid UTF-8 of at most limit bytes, so an
// over-long upstream condition message shortens the Event instead of
// getting it rejected. A longer message loses the middle of its evidence,
// not its ends: its head says what failed, and its tail, from the last
// " Run: " on, is the next command, which is kept whole when it fits in
// half the limit (a long Helm error otherwise pushed it out). The cut is
// marked with an ellipsis at rune boundaries. Without such a command the
// head is kept. Invalid UTF-8 is replaced first: the JSON encoder would
// otherwise expand each bad byte into three.
func truncate(msg string, limit int) string {
	msg = strings.ToValidUTF8(msg, "\uFFFD")
	if len(msg) <= limit {
		return msg
	}
	tail := ""
	if i := strings.LastIndex(msg, runMarker); i >= 0 && len(msg)-i <= limit/2 {
		tail = msg[i:]
	}
	cut := limit - len(ellipsis) - len(tail)
	for cut > 0 && !utf8.RuneStart(msg[cut]) {
		cut--
	}
	return msg[:cut] + ellipsis + tail
}
