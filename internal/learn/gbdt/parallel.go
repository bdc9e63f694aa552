package gbdt

import (
	"sync"
	"sync/atomic"
)

// parallelFor calls fn(i) for i in [0, n) on up to workers goroutines.
// Each i is done by exactly one call, so results written per i do not
// depend on the number of workers.
func parallelFor(n, workers int, fn func(i int)) {
	if workers > n {
		workers = n
	}
	if workers <= 1 {
		for i := range n {
			fn(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				fn(i)
			}
		})
	}
	wg.Wait()
}
