package tracking

import (
	"fmt"
	"math/rand/v2"
)

// Word lists for generated run names ("brave-otter-417"), in the spirit of
// MLflow's adjective-noun-number names.
var (
	nameAdjectives = [...]string{
		"able", "amber", "ancient", "bold", "brave", "bright", "brisk", "calm", "clever", "cool",
		"crisp", "curious", "daring", "deft", "eager", "early", "fair", "fast", "fierce", "fleet",
		"gentle", "glad", "golden", "grand", "happy", "hardy", "honest", "humble", "jolly", "keen",
		"kind", "lively", "loyal", "lucid", "merry", "mighty", "nimble", "noble", "patient", "polite",
		"proud", "quick", "quiet", "rapid", "ready", "royal", "rustic", "serene", "sharp", "shy",
		"silent", "sleek", "smart", "snug", "steady", "stoic", "sunny", "swift", "tidy", "valiant",
		"vivid", "warm", "wise", "witty", "zealous",
	}
	nameNouns = [...]string{
		"ant", "badger", "bass", "bear", "bee", "bird", "bison", "boar", "carp", "cat",
		"crab", "crane", "crow", "deer", "dog", "dove", "duck", "eagle", "eel", "elk",
		"falcon", "ferret", "finch", "fox", "frog", "gnu", "goat", "goose", "hare", "hawk",
		"heron", "horse", "ibis", "jay", "koala", "lark", "lemur", "lion", "lynx", "mole",
		"moose", "moth", "mouse", "newt", "owl", "ox", "panda", "pike", "puma", "quail",
		"ram", "raven", "robin", "seal", "shark", "sloth", "snail", "squid", "stork", "swan",
		"tern", "tiger", "toad", "trout", "wolf", "wren", "yak", "zebra",
	}
)

// GenerateRunName returns a random, readable run name.
func GenerateRunName() string {
	return fmt.Sprintf("%s-%s-%d", nameAdjectives[rand.IntN(len(nameAdjectives))],
		nameNouns[rand.IntN(len(nameNouns))], rand.IntN(1000))
}
