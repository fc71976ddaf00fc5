package syslog

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/shieldwall/shieldwall/internal/event"
)

// MaxMessage is the largest message a listener accepts; longer TCP frames
// are reported as errors and skipped, longer datagrams are truncated by the
// read buffer and reported as errors.
const MaxMessage = 64 << 10

// ErrTooLong reports a message over MaxMessage.
var ErrTooLong = errors.New("syslog: message too long")

// Handler receives each message of a listener: an event, or a non-nil error
// for a message that could not be read (ev is nil then). A TCP listener
// calls it from one goroutine per connection, so it must be safe for
// concurrent use; it must not keep ev.Raw after returning.
type Handler func(ev *event.Event, err error)

// UDPListener receives one syslog message per datagram.
type UDPListener struct {
	conn   net.PacketConn
	parser Parser
	handle Handler
	seq    atomic.Int64
}

// ListenUDP binds addr ("127.0.0.1:514", ":0") for Run.
func ListenUDP(addr string, p Parser, h Handler) (*UDPListener, error) {
	conn, err := net.ListenPacket("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("syslog: listen udp %s: %w", addr, err)
	}
	return &UDPListener{conn: conn, parser: p, handle: h}, nil
}

// Addr is the bound address.
func (l *UDPListener) Addr() net.Addr { return l.conn.LocalAddr() }

// Run reads datagrams until ctx is done (then it closes the socket and
// returns nil) or the socket fails.
func (l *UDPListener) Run(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { l.conn.Close() })
	defer stop()
	defer l.conn.Close()
	source := "udp://" + l.conn.LocalAddr().String()
	buf := make([]byte, MaxMessage+1)
	for {
		n, _, err := l.conn.ReadFrom(buf)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("syslog: read %s: %w", source, err)
		}
		seq := l.seq.Add(1)
		if n > MaxMessage {
			l.handle(nil, fmt.Errorf("%s message %d: %w", source, seq, ErrTooLong))
			continue
		}
		msg := append([]byte(nil), buf[:n]...)
		ev, err := l.parser.Parse(source, seq, msg)
		if err != nil {
			err = fmt.Errorf("%s message %d: %w", source, seq, err)
		}
		l.handle(ev, err)
	}
}

// TCPListener receives syslog over TCP; each frame is octet-counted
// ("LEN SP MSG", RFC 6587 3.4.1) when it starts with a digit, otherwise
// newline-terminated.
type TCPListener struct {
	ln     net.Listener
	parser Parser
	handle Handler
	seq    atomic.Int64
}

// ListenTCP binds addr for Run.
func ListenTCP(addr string, p Parser, h Handler) (*TCPListener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("syslog: listen tcp %s: %w", addr, err)
	}
	return &TCPListener{ln: ln, parser: p, handle: h}, nil
}

// Addr is the bound address.
func (l *TCPListener) Addr() net.Addr { return l.ln.Addr() }

// Run accepts connections until ctx is done; then it closes the listener
// and every connection, waits for their readers and returns nil.
func (l *TCPListener) Run(ctx context.Context) error {
	var (
		mu    sync.Mutex
		conns = map[net.Conn]bool{}
		wg    sync.WaitGroup
	)
	stop := context.AfterFunc(ctx, func() {
		l.ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	defer stop()
	defer wg.Wait()
	defer l.ln.Close()
	source := "tcp://" + l.ln.Addr().String()
	for {
		c, err := l.ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("syslog: accept on %s: %w", source, err)
		}
		mu.Lock()
		if ctx.Err() != nil {
			mu.Unlock()
			c.Close()
			return nil
		}
		conns[c] = true
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.serve(c, source)
			mu.Lock()
			delete(conns, c)
			mu.Unlock()
			c.Close()
		}()
	}
}

func (l *TCPListener) serve(c net.Conn, source string) {
	r := bufio.NewReaderSize(c, 16<<10)
	for {
		msg, err := readFrame(r)
		if err == io.EOF || errors.Is(err, net.ErrClosed) {
			return // the peer is done, or Run is stopping
		}
		seq := l.seq.Add(1)
		if err != nil {
			l.handle(nil, fmt.Errorf("%s message %d: %w", source, seq, err))
			if !errors.Is(err, ErrTooLong) {
				return // framing lost or connection broken
			}
			continue
		}
		if len(msg) == 0 {
			continue
		}
		ev, err := l.parser.Parse(source, seq, msg)
		if err != nil {
			err = fmt.Errorf("%s message %d: %w", source, seq, err)
		}
		l.handle(ev, err)
	}
}

// octetCounted reports whether the next frame starts with "LEN SP": up to
// nine digits, the first not zero, then a space. A newline-framed message
// may start with digits too (a timestamp without PRI).
func octetCounted(r *bufio.Reader) bool {
	for k := 1; k <= 10; k++ {
		b, err := r.Peek(k)
		if err != nil {
			return false
		}
		c := b[k-1]
		switch {
		case c == ' ':
			return k > 1
		case c < '0' || c > '9' || (k == 1 && c == '0'):
			return false
		}
	}
	return false
}

// readFrame reads one octet-counted or newline-terminated message. A
// message over MaxMessage is skipped and reported with ErrTooLong.
func readFrame(r *bufio.Reader) ([]byte, error) {
	if octetCounted(r) {
		// Octet counting: digits, a space, then exactly that many bytes.
		var n int
		for digits := 0; ; digits++ {
			c, err := r.ReadByte()
			if err != nil {
				return nil, unexpected(err)
			}
			if c == ' ' {
				break
			}
			if c < '0' || c > '9' || digits >= 9 {
				return nil, fmt.Errorf("syslog: bad octet count near %q", strconv.QuoteRune(rune(c)))
			}
			n = n*10 + int(c-'0')
		}
		if n > MaxMessage {
			if _, err := r.Discard(n); err != nil {
				return nil, unexpected(err)
			}
			return nil, fmt.Errorf("%w: %d bytes", ErrTooLong, n)
		}
		msg := make([]byte, n)
		if _, err := io.ReadFull(r, msg); err != nil {
			return nil, unexpected(err)
		}
		return msg, nil
	}
	var msg []byte
	tooLong := false
	for {
		chunk, err := r.ReadSlice('\n')
		if !tooLong && len(msg)+len(chunk) <= MaxMessage+1 {
			msg = append(msg, chunk...)
		} else {
			tooLong, msg = true, nil
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF && (len(msg) > 0 || tooLong):
			// a last message without its newline
		case err != nil:
			return nil, err
		}
		if tooLong {
			return nil, ErrTooLong
		}
		return msg, nil
	}
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
