package registry

import (
	"github.com/ferry-ml/ferry/internal/errdefs"
)

// The constructors below produce MLflow's registry errors, word for word,
// for conditions a Store detects inside its transactions.

// ModelExists is the error for creating or renaming to a taken name.
func ModelExists(name string) error {
	return errdefs.AlreadyExists("Registered Model (name=%s) already exists.", name)
}

// ModelNotFound is the error for an unknown registered model.
func ModelNotFound(name string) error {
	return errdefs.NotFound("Registered Model with name=%s not found", name)
}

// VersionNotFound is the error for an unknown or deleted version.
func VersionNotFound(name string, version int64) error {
	return errdefs.NotFound("Model Version (name=%s, version=%d) not found", name, version)
}

// ModelChanged is the error of a gated move whose model changed (a
// review, a tag, the policy — on another server) while its gate decided.
func ModelChanged(name string) error {
	return errdefs.Conflict("Registered model '%s' changed while its policy gate was deciding (a review, tag, alias or policy change); nothing was changed. Try again.", name)
}

// AliasNotFound is the error for an alias a model does not have. MLflow
// answers it with INVALID_PARAMETER_VALUE (400), not a 404.
func AliasNotFound(alias string) error {
	return errdefs.InvalidArgument("Registered model alias %s not found.", alias)
}
