package graph

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
)

// Page, delta and download tokens are opaque to clients: a kind, the cursor
// fields and an HMAC, base64url-encoded. Skip tokens begin with the bytes
// "DSpt" 0x02, so that they start with RFNwdA like Microsoft's.
var skipMagic = []byte{'D', 'S', 'p', 't', 0x02}

type tokenKind byte

const (
	kindUsers       tokenKind = 1 // unfiltered users: last creation seq
	kindUsersPrefix tokenKind = 2 // startswith: last UPN key
	kindSPs         tokenKind = 3 // service principals: next index
	kindDeltaFull   tokenKind = 4 // initial delta round
	kindDeltaChange tokenKind = 5 // delta change round
	kindDeltaLink   tokenKind = 6 // deltaLink
	kindGroups      tokenKind = 7 // groups: next index
)

// token is the union of all cursor fields.
type token struct {
	kind   tokenKind
	n1, n2 uint64 // seq/index; delta: since, until
	cursor uint64
	issued int64 // unix seconds
	sel    []byte
	key    string
}

var errBadToken = errors.New("bad token")

func (h *Handler) encodeToken(t token) string {
	b := make([]byte, 0, 64)
	b = append(b, skipMagic...)
	b = append(b, byte(t.kind))
	b = binary.AppendUvarint(b, t.n1)
	b = binary.AppendUvarint(b, t.n2)
	b = binary.AppendUvarint(b, t.cursor)
	b = binary.AppendVarint(b, t.issued)
	b = binary.AppendUvarint(b, uint64(len(t.sel)))
	b = append(b, t.sel...)
	b = append(b, t.key...)
	m := hmac.New(sha256.New, h.tokenKey)
	m.Write(b)
	b = m.Sum(b)[:len(b)+12]
	return base64.RawURLEncoding.EncodeToString(b)
}

func (h *Handler) decodeToken(s string) (token, error) {
	var t token
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < len(skipMagic)+1+12 {
		return t, errBadToken
	}
	body, sig := b[:len(b)-12], b[len(b)-12:]
	m := hmac.New(sha256.New, h.tokenKey)
	m.Write(body)
	if !hmac.Equal(m.Sum(nil)[:12], sig) {
		return t, errBadToken
	}
	body = body[len(skipMagic):]
	t.kind = tokenKind(body[0])
	body = body[1:]
	read := func() uint64 {
		v, n := binary.Uvarint(body)
		if n <= 0 {
			err = errBadToken
			return 0
		}
		body = body[n:]
		return v
	}
	t.n1, t.n2, t.cursor = read(), read(), read()
	iv, n := binary.Varint(body)
	if n <= 0 {
		return t, errBadToken
	}
	body = body[n:]
	t.issued = iv
	ln := read()
	if err != nil || ln > uint64(len(body)) {
		return t, errBadToken
	}
	t.sel = body[:ln]
	t.key = string(body[ln:])
	return t, nil
}

func selBytes(sel []int) []byte {
	b := make([]byte, len(sel))
	for i, s := range sel {
		b[i] = byte(s)
	}
	return b
}

func selInts(b []byte, limit int) ([]int, bool) {
	out := make([]int, len(b))
	for i, c := range b {
		if int(c) >= limit {
			return nil, false
		}
		out[i] = int(c)
	}
	return out, true
}
