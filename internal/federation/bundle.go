package federation

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"filippo.io/age"

	"github.com/shieldwall/shieldwall/internal/federation/sealed"
	"github.com/shieldwall/shieldwall/internal/identity"
	"github.com/shieldwall/shieldwall/internal/stix"
	"github.com/shieldwall/shieldwall/internal/store"
)

// ErrReplay is wrapped by OpenBundle's error for a bundle opened before.
var ErrReplay = errors.New("bundle was opened before (replay)")

// SealFor writes to w a sealed bundle of everything the policy lets peer
// have of its push collections since the last bundle sealed for it, and
// moves the bundle cursors on once the bundle is written. It returns the
// manifest (Objects may be 0: an empty bundle is still a valid one).
func (s *Syncer) SealFor(ctx context.Context, peerName string, w io.Writer) (sealed.Manifest, error) {
	p, err := s.peer(peerName)
	if err != nil {
		return sealed.Manifest{}, err
	}
	rcpt, err := age.ParseX25519Recipient(p.cfg.AgeRecipient)
	if err != nil {
		return sealed.Manifest{}, fmt.Errorf("seal for %s: age_recipient: %w", peerName, err)
	}
	var (
		objs    []json.RawMessage
		log     []store.FedDecision
		cursors = map[string]string{}
	)
	now := s.now()
	for _, coll := range p.cfg.Push {
		cur, err := s.timeCursor(ctx, peerName, coll, store.DirBundle)
		if err != nil {
			return sealed.Manifest{}, err
		}
		f := store.Filter{AddedAfter: cur, Versions: store.VersionMatch{All: true}}
		for {
			pg, err := s.query(ctx, coll, f)
			if err != nil {
				return sealed.Manifest{}, fmt.Errorf("seal for %s: %w", peerName, err)
			}
			for _, r := range pg.Records {
				o, err := s.decide(ctx, p, r)
				if err != nil {
					return sealed.Manifest{}, fmt.Errorf("seal for %s: %w", peerName, err)
				}
				log = append(log, decisionRecord(peerName, o, now))
				if o.raw != nil {
					objs = append(objs, o.raw)
				}
				cur = r.DateAdded
			}
			if !pg.More || pg.Next == "" {
				break
			}
			f.Next = pg.Next
		}
		if !cur.IsZero() {
			cursors[coll] = formatTime(cur)
		}
	}
	bundle, err := json.Marshal(struct {
		Type    string            `json:"type"`
		ID      string            `json:"id"`
		Objects []json.RawMessage `json:"objects"`
	}{"bundle", stix.NewID("bundle"), nonNil(objs)})
	if err != nil {
		return sealed.Manifest{}, fmt.Errorf("seal for %s: %w", peerName, err)
	}
	cb, _ := json.Marshal(cursors)
	m := sealed.Manifest{ID: stix.NewID("bundle")[len("bundle--"):], From: s.o.Identity.Name, FromIdentity: s.o.Identity.ID(),
		To: peerName, Sealed: now, Objects: len(objs), Cursor: string(cb)}
	if err := sealed.Seal(w, m, bundle, s.o.Identity.Sign, rcpt); err != nil {
		return m, fmt.Errorf("seal for %s: %w", peerName, err)
	}
	if err := s.o.Store.LogDecisions(ctx, log); err != nil {
		return m, err
	}
	for coll, c := range cursors {
		if err := s.o.Store.SetCursor(ctx, peerName, coll, store.DirBundle, c); err != nil {
			return m, err
		}
	}
	return m, nil
}

func nonNil(o []json.RawMessage) []json.RawMessage {
	if o == nil {
		return []json.RawMessage{}
	}
	return o
}

// OpenBundle verifies a sealed bundle (recipient, sender's signature, hash,
// freshness; sealed.Open), refuses one opened before, and imports its
// objects into the sender's Into collection as received from the sender.
// It returns the manifest and how many object versions were new here.
func (s *Syncer) OpenBundle(ctx context.Context, r io.Reader) (sealed.Manifest, int, error) {
	m, raw, err := sealed.Open(r, sealed.OpenOptions{
		Identity: s.o.Identity.AgeIdentity(),
		Self:     s.o.Identity.Name,
		Now:      s.now(),
		SenderKey: func(from string) (ed25519.PublicKey, bool) {
			p, ok := s.peers[from]
			if !ok {
				return nil, false
			}
			k, err := identity.ParsePublicKey(p.cfg.PublicKey)
			return k, err == nil
		},
	})
	if err != nil {
		if p, ok := s.peers[m.From]; ok {
			p.count(func(st *State) { st.Refused++; st.LastError, st.LastErrorTime = err.Error(), s.now() })
		}
		return m, 0, fmt.Errorf("federation: %w", err)
	}
	p := s.peers[m.From]
	seen, err := s.o.Store.BundleOpened(ctx, m.ID)
	if err != nil {
		return m, 0, err
	}
	if seen {
		err := fmt.Errorf("federation: bundle %s from %s: %w", m.ID, m.From, ErrReplay)
		p.count(func(st *State) { st.Refused++; st.LastError, st.LastErrorTime = err.Error(), s.now() })
		return m, 0, err
	}
	br := stix.NewBundleReader(bytes.NewReader(raw))
	var objs []json.RawMessage
	for {
		o, err := br.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return m, 0, fmt.Errorf("federation: bundle %s: %w", m.ID, err)
		}
		objs = append(objs, o)
	}
	added := 0
	for len(objs) > 0 {
		n := min(len(objs), 500)
		k, err := s.receive(ctx, p, objs[:n], p.cfg.Into)
		if err != nil {
			return m, added, fmt.Errorf("federation: bundle %s: %w", m.ID, err)
		}
		added += k
		objs = objs[n:]
	}
	// Recorded after the import: a crash in between lets the same bundle be
	// opened again, which imports nothing twice.
	if err := s.o.Store.RecordBundle(ctx, m.ID, m.From, s.now()); err != nil && !errors.Is(err, store.ErrConflict) {
		return m, added, err
	}
	return m, added, nil
}
