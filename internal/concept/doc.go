// Package concept detects concept drift in the delayed-label error stream of a
// served model and estimates classifier performance while labels are missing.
//
// The online detectors (DDM, PageHinkley, ADWIN) follow river's
// implementations (river/drift/binary/ddm.py, river/drift/page_hinkley.py,
// river/drift/adwin.py + adwin_c.pyx) arithmetic for arithmetic, including
// their defaults and their "reset on the update after a drift" behaviour.
// Detectors are not safe for concurrent use; callers serialise updates.
//
// CBPE (confidence-based performance estimation) follows NannyML: an isotonic
// calibrator is fitted on labelled reference data and calibrated scores are
// treated as P(y=1) to build an expected confusion matrix for an unlabelled
// window.
package concept
