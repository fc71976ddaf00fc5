package federation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/shieldwall/shieldwall/internal/stix"
	"github.com/shieldwall/shieldwall/internal/store"
	"github.com/shieldwall/shieldwall/internal/taxii/taxiiclient"
)

// Rules of refusals recorded in the decision log.
const (
	ActionRefuse = "refuse"
	RuleInvalid  = "invalid" // stix.Decode refused the object
	RuleForged   = "forged"  // created_by_ref names this node, which never made it
)

// receive validates what a peer sent, records its origin and stores it in
// the local collection into. Refusals are logged with their reason and
// counted in the peer's state; they do not fail the call.
func (s *Syncer) receive(ctx context.Context, p *peer, raws []json.RawMessage, into string) (int, error) {
	var (
		objs    []stix.Object
		refused []store.FedDecision
	)
	now := s.now()
	for _, raw := range raws {
		o, _, err := stix.Decode(raw)
		if err != nil {
			id, typ := peek(raw)
			refused = append(refused, store.FedDecision{ObjectID: id, Peer: p.cfg.Name, Action: ActionRefuse, Rule: RuleInvalid,
				Reason: fmt.Sprintf("invalid %s from %s: %v", orUnknown(typ), p.cfg.Name, err), Time: now})
			continue
		}
		if by := createdBy(o.Raw); by != "" && slices.Contains(s.self.Identities, by) {
			have, err := s.holds(ctx, p, o)
			if err != nil {
				return 0, err
			}
			if !have {
				refused = append(refused, store.FedDecision{ObjectID: o.ID, Version: o.Version(), Peer: p.cfg.Name, Action: ActionRefuse, Rule: RuleForged,
					Reason: fmt.Sprintf("created_by_ref is this node's identity %s, but this node never made this version; forged by or via %s", by, p.cfg.Name), Time: now})
			}
			continue // our own object coming back (a loop elsewhere): nothing to do
		}
		objs = append(objs, o)
	}
	if err := s.refuse(ctx, p, refused); err != nil {
		return 0, err
	}
	if len(objs) == 0 {
		return 0, nil
	}
	// The origin goes first: a crash before Put leaves an origin for a
	// version not stored yet (harmless, it comes again), never a stored
	// version without its origin (which would look locally made).
	for _, o := range objs {
		if err := s.addOrigin(ctx, o.ID, o.Version(), p.cfg.Name); err != nil {
			return 0, fmt.Errorf("record origin: %w", err)
		}
	}
	res, err := s.put(ctx, into, objs)
	if errors.Is(err, store.ErrInvalid) {
		// One object the store cannot keep (a timestamp out of its range,
		// say) must not block the rest, nor the cursor: store them one by
		// one and refuse the ones it refuses.
		res, err = s.putEach(ctx, p, into, objs)
	}
	if err != nil {
		return 0, fmt.Errorf("store into %s: %w", into, err)
	}
	added := 0
	for _, r := range res {
		if r.Added {
			added++
		}
	}
	p.count(func(st *State) { st.Received += int64(added) })
	return added, nil
}

func (s *Syncer) putEach(ctx context.Context, p *peer, into string, objs []stix.Object) ([]store.PutResult, error) {
	var (
		out     []store.PutResult
		refused []store.FedDecision
	)
	for _, o := range objs {
		res, err := s.put(ctx, into, []stix.Object{o})
		switch {
		case errors.Is(err, store.ErrInvalid):
			refused = append(refused, store.FedDecision{ObjectID: o.ID, Version: o.Version(), Peer: p.cfg.Name, Action: ActionRefuse,
				Rule: RuleInvalid, Reason: fmt.Sprintf("this node's store cannot keep it: %v", err), Time: s.now()})
		case err != nil:
			return nil, err
		default:
			out = append(out, res...)
		}
	}
	if err := s.refuse(ctx, p, refused); err != nil {
		return nil, err
	}
	return out, nil
}

// refuse logs refusals and counts them in the peer's state.
func (s *Syncer) refuse(ctx context.Context, p *peer, refused []store.FedDecision) error {
	if len(refused) == 0 {
		return nil
	}
	for _, d := range refused {
		s.log.Warn("refused object from peer", "peer", p.cfg.Name, "id", d.ObjectID, "rule", d.Rule, "reason", d.Reason)
	}
	p.count(func(st *State) {
		st.Refused += int64(len(refused))
		last := refused[len(refused)-1]
		st.LastError, st.LastErrorTime = last.Reason, last.Time
	})
	if err := s.o.Store.LogDecisions(ctx, refused); err != nil {
		return fmt.Errorf("log refusals: %w", err)
	}
	return nil
}

// holds says whether this node stores this version of o in a collection it
// shares with p.
func (s *Syncer) holds(ctx context.Context, p *peer, o stix.Object) (bool, error) {
	for _, coll := range append([]string{p.cfg.Into}, p.cfg.Push...) {
		pg, err := s.query(ctx, coll, store.Filter{IDs: []string{o.ID}, Versions: store.VersionMatch{All: true}})
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("look up %s: %w", o.ID, err)
		}
		for _, r := range pg.Records {
			if r.Version.Equal(o.Version()) || o.Version().IsZero() {
				return true, nil
			}
		}
	}
	return false, nil
}

// pull fetches every page the peer added to its collections since the
// cursor. The cursor (the page's last date_added) advances only once the
// page is stored: an interrupted page is fetched again, and storing it twice
// is a no-op, so there is neither gap nor duplicate.
func (s *Syncer) pull(ctx context.Context, p *peer) error {
	if p.client == nil {
		return nil
	}
	for _, coll := range p.cfg.Pull {
		cur, err := s.timeCursor(ctx, p.cfg.Name, coll, store.DirPull)
		if err != nil {
			return err
		}
		for {
			limit, _ := p.pageSize()
			start := time.Now()
			pg, err := p.client.Objects(ctx, coll, taxiiclient.Query{AddedAfter: cur, Limit: limit, Versions: store.VersionMatch{All: true}})
			if cerr := s.charge(ctx, p, time.Since(start), err != nil, false); cerr != nil && err == nil {
				err = cerr
			}
			if err != nil {
				return fmt.Errorf("pull %s: %w", coll, err)
			}
			if len(pg.Objects) == 0 {
				break
			}
			if pg.Last.IsZero() || !pg.Last.After(cur) {
				return fmt.Errorf("pull %s: the peer gives no later %s; cannot keep a cursor", coll, taxiiclient.HeaderDateAddedLast)
			}
			if _, err := s.receive(ctx, p, pg.Objects, p.cfg.Into); err != nil {
				return fmt.Errorf("pull %s: %w", coll, err)
			}
			cur = pg.Last
			if err := s.setCursor(ctx, p.cfg.Name, coll, store.DirPull, cur); err != nil {
				return err
			}
			if !pg.More {
				break
			}
		}
	}
	return nil
}

// inbox moves what the peer pushed into its inbox collection here into
// Peer.Into, validated and attributed like a pull.
func (s *Syncer) inbox(ctx context.Context, p *peer) error {
	box := s.o.Inbox(p.cfg.Name)
	if _, err := s.collID(ctx, box); errors.Is(err, store.ErrNotFound) {
		return nil
	} else if err != nil {
		return fmt.Errorf("inbox %s: %w", box, err)
	}
	cur, err := s.timeCursor(ctx, p.cfg.Name, box, store.DirInbox)
	if err != nil {
		return err
	}
	for {
		pg, err := s.query(ctx, box, store.Filter{AddedAfter: cur, Versions: store.VersionMatch{All: true}, Limit: 500})
		if err != nil {
			return fmt.Errorf("inbox %s: %w", box, err)
		}
		if len(pg.Records) == 0 {
			return nil
		}
		raws := make([]json.RawMessage, len(pg.Records))
		for i, r := range pg.Records {
			raws[i] = r.Object.Raw
		}
		if _, err := s.receive(ctx, p, raws, p.cfg.Into); err != nil {
			return fmt.Errorf("inbox %s: %w", box, err)
		}
		cur = pg.Records[len(pg.Records)-1].DateAdded
		if err := s.setCursor(ctx, p.cfg.Name, box, store.DirInbox, cur); err != nil {
			return err
		}
		if !pg.More {
			return nil
		}
	}
}

// cursorKey names a cursor of the engine's own (pull, push, inbox): only
// the running Syncer writes them, so it keeps them in memory as well.
// Bundle cursors are not cached (a CLI process seals bundles).
type cursorKey struct{ peer, coll, dir string }

func (s *Syncer) timeCursor(ctx context.Context, peer, coll, dir string) (time.Time, error) {
	k := cursorKey{peer, coll, dir}
	s.cacheMu.Lock()
	t, ok := s.cursors[k]
	s.cacheMu.Unlock()
	if ok && dir != store.DirBundle {
		return t, nil
	}
	v, err := s.o.Store.Cursor(ctx, peer, coll, dir)
	if err != nil {
		return time.Time{}, err
	}
	if v == "" {
		s.cacheMu.Lock()
		s.cursors[k] = time.Time{}
		s.cacheMu.Unlock()
		return time.Time{}, nil
	}
	t, err = time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("cursor %s/%s/%s %q: %w", peer, coll, dir, v, err)
	}
	s.cacheMu.Lock()
	s.cursors[k] = t
	s.cacheMu.Unlock()
	return t, nil
}

// setCursor stores a cursor of the engine's own and keeps it in memory.
func (s *Syncer) setCursor(ctx context.Context, peer, coll, dir string, t time.Time) error {
	k := cursorKey{peer, coll, dir}
	s.cacheMu.Lock()
	delete(s.cursors, k) // read again from the store if the write fails
	s.cacheMu.Unlock()
	if err := s.o.Store.SetCursor(ctx, peer, coll, dir, formatTime(t)); err != nil {
		return err
	}
	s.cacheMu.Lock()
	s.cursors[k] = t
	s.cacheMu.Unlock()
	return nil
}

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// peek reads id and type of something that may not be a valid object.
func peek(raw []byte) (id, typ string) {
	var m struct {
		ID   any `json:"id"`
		Type any `json:"type"`
	}
	_ = json.Unmarshal(raw, &m)
	id, _ = m.ID.(string)
	typ, _ = m.Type.(string)
	if len(id) > 200 {
		id = id[:200]
	}
	return id, typ
}

func createdBy(raw []byte) string {
	var m struct {
		CreatedBy string `json:"created_by_ref"`
	}
	_ = json.Unmarshal(raw, &m)
	return m.CreatedBy
}

func orUnknown(s string) string {
	if s == "" {
		return "object"
	}
	return s
}

// collID resolves a configured collection name (id or alias) to its id.
func (s *Syncer) collID(ctx context.Context, name string) (string, error) {
	s.mkMu.Lock()
	id, ok := s.colls[name]
	s.mkMu.Unlock()
	if ok {
		return id, nil
	}
	c, err := s.o.Store.Collection(ctx, name)
	if err != nil {
		return "", fmt.Errorf("collection %q: %w", name, err)
	}
	s.mkMu.Lock()
	s.colls[name] = c.ID
	s.mkMu.Unlock()
	return c.ID, nil
}

func (s *Syncer) query(ctx context.Context, name string, f store.Filter) (store.Page, error) {
	id, err := s.collID(ctx, name)
	if err != nil {
		return store.Page{}, err
	}
	return s.o.Store.Query(ctx, id, f)
}

func (s *Syncer) put(ctx context.Context, name string, objs []stix.Object) ([]store.PutResult, error) {
	id, err := s.collID(ctx, name)
	if err != nil {
		return nil, err
	}
	return s.o.Store.Put(ctx, id, objs)
}
