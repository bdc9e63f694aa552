// Package predlog is the prediction log and its ground truth: what an
// endpoint answered (inputs, outputs, model version, variant, latency),
// and the true outcome that a client reports later under the same request
// id. Drift and performance monitoring and A/B comparisons read both.
//
// Logger takes records on the inference hot path without ever blocking:
// Sample decides cheaply whether a request is logged at all, Log hands a
// record to a bounded buffer (a full buffer drops it and counts it), and a
// background goroutine writes batches to the Store. Service validates
// feedback and serves the paged, filtered log to the API. Store is
// implemented by sqlstore (tables predictions and prediction_feedback).
package predlog
