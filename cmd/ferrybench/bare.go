package main

// `ferrybench bare` is the baseline of the serving benchmark
// (bench/serving): a plain net/http server that decodes each prediction
// request with encoding/json into a struct of the request's format — the
// decoding work any naive Go server does — and answers a constant. It
// loads no model and predicts nothing, so its throughput is the ceiling
// for an HTTP+JSON model server on the same machine.

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// bareOIPRequest is an Open Inference Protocol request as a naive server
// decodes it: every tensor's data as a flat list of numbers.
type bareOIPRequest struct {
	ID         string         `json:"id"`
	Parameters map[string]any `json:"parameters"`
	Inputs     []struct {
		Name     string    `json:"name"`
		Shape    []int64   `json:"shape"`
		Datatype string    `json:"datatype"`
		Data     []float64 `json:"data"`
	} `json:"inputs"`
}

// bareMLflowRequest is MLflow's dataframe_split scoring body.
type bareMLflowRequest struct {
	DataframeSplit struct {
		Columns []string    `json:"columns"`
		Data    [][]float64 `json:"data"`
	} `json:"dataframe_split"`
}

// Constant answers in the shape of each protocol's response.
const (
	bareOIPResponse    = `{"model_name":"bare","model_version":"1","outputs":[{"name":"predict","shape":[1],"datatype":"FP64","data":[0.5]}]}`
	bareMLflowResponse = `{"predictions":[0.5]}`
)

// bareHandler returns the handler for format "oip" or "mlflow". It
// answers 400 when the body does not decode or carries no rows.
func bareHandler(format string) (http.Handler, error) {
	mux := http.NewServeMux()
	switch format {
	case "oip":
		mux.HandleFunc("POST /v2/models/{name}/infer", func(w http.ResponseWriter, r *http.Request) {
			var req bareOIPRequest
			if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.Inputs) == 0 {
				bareAnswer(w, http.StatusBadRequest, `{"error":"bad request"}`)
				return
			}
			bareAnswer(w, http.StatusOK, bareOIPResponse)
		})
	case "mlflow":
		h := func(w http.ResponseWriter, r *http.Request) {
			var req bareMLflowRequest
			if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.DataframeSplit.Data) == 0 {
				bareAnswer(w, http.StatusBadRequest, `{"error_code":"BAD_REQUEST","message":"bad request"}`)
				return
			}
			bareAnswer(w, http.StatusOK, bareMLflowResponse)
		}
		mux.HandleFunc("POST /endpoints/{name}/invocations", h)
		mux.HandleFunc("POST /invocations", h)
	default:
		return nil, fmt.Errorf("unknown --format %q: want oip or mlflow", format)
	}
	return mux, nil
}

// bareAnswer writes a JSON body with its status.
func bareAnswer(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// bare serves the baseline handler until SIGINT or SIGTERM.
func bare(args []string) error {
	fs := flag.NewFlagSet("bare", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:5090", "address to listen on")
	format := fs.String("format", "oip", "request format: oip (POST /v2/models/{name}/infer) or mlflow (POST /endpoints/{name}/invocations with dataframe_split)")
	fs.Parse(args)
	h, err := bareHandler(*format)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serveBare(ctx, *addr, h)
}

// serveBare listens on addr and serves h until ctx ends, then drains.
func serveBare(ctx context.Context, addr string, h http.Handler) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("bare: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
	slog.InfoContext(ctx, "bare handler listening", slog.String("addr", ln.Addr().String()))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("bare: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("bare: shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("bare: %w", err)
	}
	return nil
}
