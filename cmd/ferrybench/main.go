// Command ferrybench seeds a Ferry store with many runs and measures the
// tracking API over real HTTP, so Ferry and any MLflow-compatible server
// can be compared side by side on the same machine:
//
//	ferrybench seed --data DIR --runs 100000          # direct store writes
//	ferrybench http --url http://127.0.0.1:5000 --op log-batch --n 500
//	ferrybench startup --bin ./ferry                   # exec to healthy /health, idle RSS
//	ferrybench bare --addr 127.0.0.1:5099 --format oip # the serving benchmark's baseline handler
//
// `http` reports p50/p90/p99/mean per call over one keep-alive connection
// per worker.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ferry-ml/ferry/internal/store/postgres"
	"github.com/ferry-ml/ferry/internal/store/sqlite"
	"github.com/ferry-ml/ferry/internal/store/sqlstore"
	"github.com/ferry-ml/ferry/internal/tracking"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: ferrybench seed|http|startup|bare [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "seed":
		err = seed(os.Args[2:])
	case "http":
		err = bench(os.Args[2:])
	case "startup":
		err = startup(os.Args[2:])
	case "bare":
		err = bare(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "ferrybench:", err)
		os.Exit(1)
	}
}

// seed creates an experiment with n runs, each with metrics acc and loss,
// params lr and depth and a tag, through the tracking service.
func seed(args []string) error {
	fs := flag.NewFlagSet("seed", flag.ExitOnError)
	data := fs.String("data", "ferry-data", "data directory (SQLite)")
	db := fs.String("db", "", "postgres:// URL instead of SQLite")
	runs := fs.Int("runs", 100000, "number of runs")
	name := fs.String("experiment", "bench", "experiment name")
	fs.Parse(args)
	ctx := context.Background()
	var st *sqlstore.Store
	var err error
	if *db != "" {
		st, err = postgres.Open(ctx, *db, 8)
	} else {
		st, err = sqlite.Open(ctx, filepath.Join(*data, "ferry.db"), sqlite.Options{Synchronous: "normal"})
	}
	if err != nil {
		return err
	}
	defer st.Close()
	svc := tracking.NewService(st, nil, tracking.Options{})
	if err := svc.Init(ctx); err != nil {
		return err
	}
	exp, err := svc.CreateExperiment(ctx, *name, "", nil)
	if err != nil {
		return err
	}
	start := time.Now()
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < *runs; i++ {
		run, err := svc.CreateRun(ctx, tracking.CreateRunRequest{ExperimentID: exp, UserID: "bench", StartTime: int64(1_700_000_000_000 + i)})
		if err != nil {
			return err
		}
		metrics := []tracking.Metric{{Key: "acc", Value: rng.Float64(), Timestamp: 1, Step: 0}}
		if i%10 != 0 { // 10% of runs lack loss: exercises "missing sorts last"
			metrics = append(metrics, tracking.Metric{Key: "loss", Value: rng.Float64(), Timestamp: 1, Step: 0})
		}
		params := []tracking.Param{{Key: "lr", Value: fmt.Sprint([]float64{0.01, 0.1, 0.3}[i%3])}, {Key: "depth", Value: fmt.Sprint(3 + i%5)}}
		tags := []tracking.Tag{{Key: "model", Value: []string{"xgb", "lgbm", "linear"}[i%3]}}
		if err := svc.LogBatch(ctx, run.Info.RunID, metrics, params, tags); err != nil {
			return err
		}
		if (i+1)%10000 == 0 {
			fmt.Fprintf(os.Stderr, "%d runs (%.0f/s)\n", i+1, float64(i+1)/time.Since(start).Seconds())
		}
	}
	fmt.Printf("seeded experiment %q (id %s) with %d runs in %s\n", *name, exp, *runs, time.Since(start).Round(time.Millisecond))
	return nil
}

type client struct {
	base string
	http *http.Client
}

func (c *client) call(method, path string, body any) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, out)
	}
	return out, err
}

// bench measures one operation over HTTP.
func bench(args []string) error {
	fs := flag.NewFlagSet("http", flag.ExitOnError)
	url := fs.String("url", "http://127.0.0.1:5000", "tracking server")
	op := fs.String("op", "log-metric", "log-metric, log-batch, get-run, search, search-exp (needs --experiment)")
	n := fs.Int("n", 1000, "calls per worker")
	workers := fs.Int("c", 1, "concurrent workers")
	batch := fs.Int("batch", 1000, "metrics per log-batch")
	expName := fs.String("experiment", "", "for search: experiment name to search")
	filter := fs.String("filter", "metrics.acc > 0.5", "for search: filter")
	order := fs.String("order-by", "metrics.loss DESC", "for search: order_by")
	maxResults := fs.Int("max-results", 100, "for search: max_results")
	fs.Parse(args)
	c := &client{base: strings.TrimRight(*url, "/"), http: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *workers + 1}}}

	var expID string
	if *expName != "" {
		b, err := c.call("GET", "/api/2.0/mlflow/experiments/get-by-name?experiment_name="+*expName, nil)
		if err != nil {
			return err
		}
		var r struct {
			Experiment struct {
				ID string `json:"experiment_id"`
			} `json:"experiment"`
		}
		json.Unmarshal(b, &r)
		expID = r.Experiment.ID
	} else {
		b, err := c.call("POST", "/api/2.0/mlflow/experiments/create", map[string]any{"name": fmt.Sprintf("bench-%d", time.Now().UnixNano())})
		if err != nil {
			return err
		}
		var r struct {
			ID string `json:"experiment_id"`
		}
		json.Unmarshal(b, &r)
		expID = r.ID
	}
	newRun := func() (string, error) {
		b, err := c.call("POST", "/api/2.0/mlflow/runs/create", map[string]any{"experiment_id": expID, "start_time": time.Now().UnixMilli()})
		if err != nil {
			return "", err
		}
		var r struct {
			Run struct {
				Info struct {
					ID string `json:"run_id"`
				} `json:"info"`
			} `json:"run"`
		}
		json.Unmarshal(b, &r)
		return r.Run.Info.ID, nil
	}

	var mu sync.Mutex
	var lat []time.Duration
	var firstErr error
	var wg sync.WaitGroup
	for w := 0; w < *workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var run string
			var err error
			if *op != "search" { // searches read; they need no run of their own
				run, err = newRun()
			}
			if err != nil {
				mu.Lock()
				firstErr = err
				mu.Unlock()
				return
			}
			// prepare payloads outside the timed section
			metrics := make([]map[string]any, *batch)
			local := make([]time.Duration, 0, *n)
			for i := 0; i < *n; i++ {
				var method, path string
				var body any
				switch *op {
				case "log-metric":
					method, path = "POST", "/api/2.0/mlflow/runs/log-metric"
					body = map[string]any{"run_id": run, "key": "loss", "value": rand.Float64(), "timestamp": time.Now().UnixMilli(), "step": i}
				case "log-batch":
					for j := range metrics {
						metrics[j] = map[string]any{"key": fmt.Sprint("m", j%50), "value": rand.Float64(), "timestamp": int64(i), "step": i*(*batch) + j}
					}
					method, path = "POST", "/api/2.0/mlflow/runs/log-batch"
					body = map[string]any{"run_id": run, "metrics": metrics}
				case "get-run":
					method, path = "GET", "/api/2.0/mlflow/runs/get?run_id="+run
				case "search":
					method, path = "POST", "/api/2.0/mlflow/runs/search"
					body = map[string]any{"experiment_ids": []string{expID}, "filter": *filter, "order_by": []string{*order}, "max_results": *maxResults}
				default:
					mu.Lock()
					firstErr = fmt.Errorf("unknown op %q", *op)
					mu.Unlock()
					return
				}
				var payload []byte
				if body != nil {
					payload, _ = json.Marshal(body)
				}
				t0 := time.Now()
				req, _ := http.NewRequest(method, c.base+path, bytes.NewReader(payload))
				if body != nil {
					req.Header.Set("Content-Type", "application/json")
				}
				resp, err := c.http.Do(req)
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						err = fmt.Errorf("%s: HTTP %d", path, resp.StatusCode)
					}
				}
				local = append(local, time.Since(t0))
				if err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
					return
				}
			}
			mu.Lock()
			lat = append(lat, local...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	var sum time.Duration
	for _, d := range lat {
		sum += d
	}
	pct := func(p float64) time.Duration { return lat[int(p*float64(len(lat)-1))] }
	fmt.Printf("%-10s calls=%d workers=%d p50=%s p90=%s p99=%s mean=%s\n", *op, len(lat), *workers,
		pct(0.5).Round(time.Microsecond), pct(0.9).Round(time.Microsecond), pct(0.99).Round(time.Microsecond),
		(sum / time.Duration(len(lat))).Round(time.Microsecond))
	return nil
}

// startup starts `BIN server` on a fresh data directory several times and
// reports the time from exec to the first healthy /health, and the
// resident memory once it has idled.
func startup(args []string) error {
	fs := flag.NewFlagSet("startup", flag.ExitOnError)
	bin := fs.String("bin", "./ferry", "ferry binary")
	addr := fs.String("addr", "127.0.0.1:5099", "address to listen on")
	n := fs.Int("n", 5, "starts")
	idle := fs.Duration("idle", 2*time.Second, "idle time before reading RSS")
	fs.Parse(args)
	client := &http.Client{Timeout: time.Second}
	for i := 0; i < *n; i++ {
		data, err := os.MkdirTemp("", "ferrybench-startup-")
		if err != nil {
			return err
		}
		cmd := exec.Command(*bin, "server", "--addr", *addr, "--data", data, "--log-level", "warn")
		t0 := time.Now()
		if err := cmd.Start(); err != nil {
			return err
		}
		var ready time.Duration
		for deadline := t0.Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			if resp, err := client.Get("http://" + *addr + "/health"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					ready = time.Since(t0)
					break
				}
			}
		}
		time.Sleep(*idle)
		rss := "?"
		if status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)); err == nil {
			for _, line := range strings.Split(string(status), "\n") {
				if strings.HasPrefix(line, "VmRSS:") {
					rss = strings.TrimSpace(strings.TrimPrefix(line, "VmRSS:"))
				}
			}
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		os.RemoveAll(data)
		if ready == 0 {
			return fmt.Errorf("server did not become healthy within 10s")
		}
		fmt.Printf("start %d: healthy after %s, idle RSS %s\n", i+1, ready.Round(100*time.Microsecond), rss)
	}
	return nil
}
