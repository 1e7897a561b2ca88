package session

import (
	"encoding/binary"
	"strings"

	"github.com/klauspost/compress/s2"
)

// uaDict1 is dictionary 1 of the user-agent compression in body format v2:
// the families of user agents most sessions come from. A user agent is
// stored as an S2 block against it (github.com/klauspost/compress/s2 with a
// dictionary), so a typical browser's 110–140 bytes take 10–30, and Redis
// keeps about 100 bytes less per session.
//
// Stored sessions are decoded with it, so it must never change: a new list
// means a new dictionary number and a new body version, with this one kept
// for decoding. TestUADictIsFrozen pins its hash.
var uaDict1 = strings.Join([]string{
	"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
	"okhttp/4.12.0",
	"Dart/3.5 (dart:io)",
	"python-requests/2.32.3",
	"Go-http-client/1.1",
	"PostmanRuntime/7.42.0",
	"curl/8.11.0",
	"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:132.0) Gecko/20100101 Firefox/132.0",
	"Mozilla/5.0 (Android 14; Mobile; rv:132.0) Gecko/132.0 Firefox/132.0",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0",
	"Mozilla/5.0 (iPad; CPU OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/490.0.0.37.107]",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
	"Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/AP2A.240905.003; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/131.0.6778.39 Mobile Safari/537.36",
	"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
	"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 OPR/115.0.0.0",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
}, "\n")

// uaDict is dictionary 1, ready for use. Its encoder tables are built on the
// first Encode (32 KiB); decoding needs none.
var uaDict = s2.MakeDict([]byte(uaDict1), []byte("Mozilla/5.0 ("))

// maxPackedUA bounds the user agents Encode compresses, and so the size a
// compressed one may claim when decoded.
const maxPackedUA = 4096

// appendUA appends ua as uvarint(n<<1 | packed) and n bytes: the S2 block
// when that is shorter, else ua itself.
func appendUA(b []byte, ua string) []byte {
	if len(ua) >= 16 && len(ua) <= maxPackedUA {
		if p := uaDict.Encode(nil, []byte(ua)); len(p) < len(ua) {
			b = binary.AppendUvarint(b, uint64(len(p))<<1|1)
			return append(b, p...)
		}
	}
	b = binary.AppendUvarint(b, uint64(len(ua))<<1)
	return append(b, ua...)
}

// readUA reads what appendUA wrote.
func (r *reader) ua() string {
	h := r.uvarint()
	raw := r.bytes(int(min(h>>1, uint64(len(r.b)+1))))
	if r.err || h&1 == 0 {
		return string(raw)
	}
	if n, err := s2.DecodedLen(raw); err != nil || n > maxPackedUA {
		r.err = true
		return ""
	}
	var buf [512]byte // most user agents; the string copy is the only allocation
	out, err := uaDict.Decode(buf[:0], raw)
	if err != nil {
		r.err = true
		return ""
	}
	return string(out)
}
