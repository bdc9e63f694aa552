// Package remote is the external model runtime: a model version served
// by another process over HTTP, so that any framework can stand behind
// Ferry's endpoints. The process is either a server that already runs
// (url) or a command Ferry starts and supervises (command), and it speaks
// MLflow's scoring protocol (GET /ping, POST /invocations) or the Open
// Inference Protocol v2 over REST (GET /v2/health/ready, GET
// /v2/models/{name}, POST /v2/models/{name}/infer).
//
// A model directory holding ferry-runtime.yaml (SpecFile) is such a
// runtime:
//
//	protocol: mlflow            # or oip (required)
//	command: [python3, serve.py, --port, "${PORT}"]   # or url: http://scorer:8080
//	dir: .                      # working directory, inside the model directory
//	env: {OMP_NUM_THREADS: "2"} # added to the command's environment
//	health_path: /ping          # default /ping (mlflow), /v2/health/ready (oip)
//	health_interval: 5s         # checks of a ready process
//	startup_timeout: 60s        # until the first 200 on health_path
//	timeout: 5s                 # one prediction
//	max_restarts: 5             # within 10 minutes; then the runtime is failed
//	model_name: model           # oip: the {name} in its paths
//	signature:                  # required for mlflow; oip reads its metadata
//	  inputs:
//	    - {name: age, type: int}       # float (default), int or categorical
//	    - {name: income}
//	  outputs: 1                # values per row
//	  task: regression          # regression, binary or multiclass
//
// ParseSpec reads the file (every error names the field and matches
// modelrt.ErrBadModel); ParseURLSource makes the spec of a version whose
// source is an http(s) URL. Open connects or starts the process and waits
// until it is ready; the *Model it returns is a modelrt.Model that sends
// each Predict as one request, bounded by the spec's timeout.
//
// A command gets a free 127.0.0.1 port in $PORT and in place of
// "${PORT}" in its argv and env, Ferry's environment without FERRY_*
// variables, and a process group of its own. Its output is logged line
// by line. It is ready when health_path answers 200 (polled every 100 ms);
// when it exits or fails 3 health checks in a row it is restarted after
// 0.5 s, 1 s, 2 s, ... up to 30 s (starting over after a minute of
// health); after more than max_restarts restarts within 10 minutes it is
// failed. Close sends SIGTERM to the group and SIGKILL 5 s later.
//
// Requests carry the rows as MLflow's dataframe_split (columns named as
// the signature's inputs, f0, f1, ... when unnamed; NaN as null, ±Inf as
// Python's Infinity tokens) or as OIP tensors (one per named feature of
// shape [rows], FP64 or INT64; a matrix input-0 of shape [rows, N] when
// unnamed; NaN as null, ±Inf as the strings "Infinity"/"-Infinity").
// Answers are read from {"predictions": [...]} (or MLflow 1.x's bare
// list) and from the first output tensor.
package remote
