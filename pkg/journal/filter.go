package journal

import (
	"context"
	"sync"
)

// Postings lead with their generation so that sealing inserts near the
// end of the B-tree; the price is that a lookup seeks once per generation
// (about 300 for ten million events), each seek a page read. A writer
// therefore keeps, per generation, a Bloom filter of the terms it holds
// and a lookup seeks only the generations whose filter may hold the term.
// The filters live in memory only: built from the postings in the
// background when a writer opens the journal, kept up to date as blocks
// are sealed. A term never leaves a filter (a retention or erasure that
// drops it leaves a false positive, which costs one seek), so a filter is
// never wrong in the direction that matters.

const (
	// filterBits per generation: 10 bits a term for the ~13k distinct
	// terms a generation of the simulated mix holds, ~1% false positives.
	filterBits   = 1 << 17
	filterProbes = 7
)

type genFilter [filterBits / 64]uint64

func (f *genFilter) add(term int64) {
	h1, h2 := filterHashes(term)
	for i := uint64(0); i < filterProbes; i++ {
		b := (h1 + i*h2) % filterBits
		f[b/64] |= 1 << (b % 64)
	}
}

func (f *genFilter) mayHold(term int64) bool {
	h1, h2 := filterHashes(term)
	for i := uint64(0); i < filterProbes; i++ {
		b := (h1 + i*h2) % filterBits
		if f[b/64]&(1<<(b%64)) == 0 {
			return false
		}
	}
	return true
}

// filterHashes derives the two hashes of double hashing from a term: the
// terms are FNV-1a, whose low bits mix poorly, so they are mixed again
// (the splitmix64 finaliser).
func filterHashes(term int64) (uint64, uint64) {
	z := uint64(term)
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	z ^= z >> 31
	return z, (z >> 32) | 1
}

// filters are the writer's per-generation filters.
type filters struct {
	mu    sync.RWMutex
	ready bool // built from every posting; until then lookups seek all
	gens  map[int64]*genFilter
}

func newFilters() *filters { return &filters{gens: map[int64]*genFilter{}} }

// add records a block's terms; called with the block's postings.
func (fs *filters) add(gen int64, terms []int64) {
	fs.mu.Lock()
	f := fs.gens[gen]
	if f == nil {
		f = new(genFilter)
		fs.gens[gen] = f
	}
	for _, t := range terms {
		f.add(t)
	}
	fs.mu.Unlock()
}

// keep reports whether a lookup of term must seek generation gen.
func (fs *filters) keep(gen, term int64) bool {
	if fs == nil {
		return true
	}
	fs.mu.RLock()
	defer fs.mu.RUnlock()
	if !fs.ready {
		return true
	}
	f := fs.gens[gen]
	return f != nil && f.mayHold(term)
}

// build reads every posting into the filters. Blocks sealed meanwhile are
// added by the writer as well; both go into the same filters.
func (fs *filters) build(ctx context.Context, j *Journal) error {
	local := map[int64]*genFilter{}
	if err := j.eachPosting(ctx, j.db, -1, func(gen, t, _ int64) {
		f := local[gen]
		if f == nil {
			f = new(genFilter)
			local[gen] = f
		}
		f.add(t)
	}, func(int64, string) {}); err != nil {
		return err
	}
	fs.mu.Lock()
	for gen, lf := range local {
		f := fs.gens[gen]
		if f == nil {
			fs.gens[gen] = lf
			continue
		}
		for i := range f {
			f[i] |= lf[i]
		}
	}
	fs.ready = true
	fs.mu.Unlock()
	return nil
}

// startFilters builds the writer's filters in the background. Until they
// are built, lookups seek every generation; a failed build leaves it so.
func (j *Journal) startFilters() {
	if j.legacy {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	j.filters = newFilters()
	j.stopFilters = cancel
	j.filtersDone = make(chan struct{})
	go func() {
		defer close(j.filtersDone)
		_ = j.filters.build(ctx, j)
	}()
}
