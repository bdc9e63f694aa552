package remote

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// childEnv selects what the test binary does when a test starts it as an
// external runtime (see runChild).
const childEnv = "FERRY_REMOTE_CHILD"

func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode != "" {
		os.Exit(runChild(mode))
	}
	os.Exit(m.Run())
}

// runChild is a tiny external runtime on 127.0.0.1:$PORT whose model
// sums each row's features:
//
//	mlflow    /ping and /invocations; /env/{name} echoes a variable;
//	          /ping answers 503 while the file $FLAKY_FILE exists
//	oip       /v2/health/ready, /v2/models/model (one [-1, 2] FP64 input), /infer
//	crash     writes two lines to stderr and exits with status 1
//	hang      /ping answers, /invocations never does
//	stubborn  mlflow, ignoring SIGTERM
//	family    mlflow, after starting a grandchild (mode sleep) in its process
//	          group and writing the grandchild's pid to $GRANDCHILD_FILE
//	sleep     sleeps a minute
func runChild(mode string) int {
	switch mode {
	case "crash":
		fmt.Fprintln(os.Stderr, "loading model")
		fmt.Fprintln(os.Stderr, "boom: model file is corrupt")
		return 1
	case "sleep":
		time.Sleep(time.Minute)
		return 0
	case "stubborn":
		signal.Ignore(syscall.SIGTERM)
	case "family":
		exe, err := os.Executable()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		gc := exec.Command(exe)
		gc.Env = append(os.Environ(), childEnv+"=sleep")
		if err := gc.Start(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		if err := os.WriteFile(os.Getenv("GRANDCHILD_FILE"), []byte(strconv.Itoa(gc.Process.Pid)), 0o600); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
	}
	for _, a := range os.Args[1:] {
		if p, ok := strings.CutPrefix(a, "--port="); ok && p != os.Getenv("PORT") {
			fmt.Fprintf(os.Stderr, "argument %s, but PORT=%s\n", a, os.Getenv("PORT"))
			return 3
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:"+os.Getenv("PORT"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	fmt.Println("listening on", l.Addr())
	mux := http.NewServeMux()
	ok := func(w http.ResponseWriter, _ *http.Request) {
		if f := os.Getenv("FLAKY_FILE"); f != "" {
			if _, err := os.Stat(f); err == nil {
				http.Error(w, "not ready", http.StatusServiceUnavailable)
				return
			}
		}
		fmt.Fprintln(w)
	}
	mux.HandleFunc("GET /ping", ok)
	mux.HandleFunc("GET /v2/health/ready", ok)
	mux.HandleFunc("GET /env/{name}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, os.Getenv(r.PathValue("name")))
	})
	mux.HandleFunc("POST /invocations", func(w http.ResponseWriter, r *http.Request) {
		if mode == "hang" {
			<-r.Context().Done()
			return
		}
		var in struct {
			Split struct {
				Data [][]float64 `json:"data"`
			} `json:"dataframe_split"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]string{"error_code": "BAD_REQUEST", "message": err.Error()})
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"predictions": rowSums(in.Split.Data)})
	})
	mux.HandleFunc("GET /v2/models/model", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, `{"name":"model","platform":"test","inputs":[{"name":"x","datatype":"FP64","shape":[-1,2]}],"outputs":[{"name":"y","datatype":"FP64","shape":[-1]}]}`)
	})
	mux.HandleFunc("POST /v2/models/model/infer", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Inputs []struct {
				Shape []int     `json:"shape"`
				Data  []float64 `json:"data"`
			} `json:"inputs"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || len(in.Inputs) != 1 || len(in.Inputs[0].Shape) != 2 {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"error": "bad request: %v"}`, err)
			return
		}
		t := in.Inputs[0]
		var rows [][]float64
		for r := range t.Shape[0] {
			rows = append(rows, t.Data[r*t.Shape[1]:(r+1)*t.Shape[1]])
		}
		json.NewEncoder(w).Encode(map[string]any{"outputs": []any{map[string]any{
			"name": "y", "shape": []int{len(rows)}, "datatype": "FP64", "data": rowSums(rows)}}})
	})
	if err := http.Serve(l, mux); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	return 0
}

func rowSums(rows [][]float64) []float64 {
	out := make([]float64, len(rows))
	for i, r := range rows {
		for _, v := range r {
			out[i] += v
		}
	}
	return out
}
