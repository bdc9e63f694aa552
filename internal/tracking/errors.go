package tracking

import (
	"fmt"

	"github.com/ferry-ml/ferry/internal/errdefs"
)

// The constructors below produce the errors MLflow users know, word for
// word, for conditions that a Store detects inside its transactions.

// ExperimentNotFound is the error for an unknown experiment id.
func ExperimentNotFound(id string) error {
	return errdefs.NotFound("No Experiment with id=%s exists", id)
}

// ExperimentNameNotFound is the error for an unknown experiment name.
func ExperimentNameNotFound(name string) error {
	return errdefs.NotFound("Could not find experiment with name '%s'", name)
}

// ExperimentExists is the error for a create or rename to a taken name.
func ExperimentExists(name string) error {
	return errdefs.AlreadyExists("Experiment '%s' already exists.", name)
}

// ExperimentNotActive is the error for a write to a deleted experiment.
func ExperimentNotActive(id string, stage LifecycleStage) error {
	return errdefs.InvalidArgument("The experiment %s must be in the 'active' state. Current state is %s.", id, stage)
}

// RunNotFound is the error for an unknown run id.
func RunNotFound(id string) error {
	return errdefs.NotFound("Run with id=%s not found", id)
}

// RunNotActive is the error for a write to a deleted run.
func RunNotActive(id string, stage LifecycleStage) error {
	return errdefs.InvalidArgument("The run %s must be in the 'active' state. Current state is %s.", id, stage)
}

// TagNotFound is the error for deleting a tag a run does not have.
func TagNotFound(runID, key string) error {
	return errdefs.NotFound("No tag with name: %s in run with id %s", key, runID)
}

// ParamChanged is the error for logging a param again with another value.
func ParamChanged(runID, key, old, attempted string) error {
	return errdefs.InvalidArgument("Changing param values is not allowed. Param with key='%s' was already logged with value='%s' for run ID='%s'. Attempted logging new value '%s'.", key, old, runID, attempted)
}

// quote renders a Python-style repr of a string list, as MLflow's messages show them.
func quote(keys []string) string {
	s := "["
	for i, k := range keys {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("'%s'", k)
	}
	return s + "]"
}
