// Package cliflag contains flag types that the commands share.
package cliflag

import "flag"

// BoolText is a boolean flag kept as text, so that a command can check it
// together with its other settings and report every invalid value at once.
// Like a flag.Bool, it may be given alone: -name means -name=true.
type BoolText string

var _ flag.Value = (*BoolText)(nil)

// NewBoolText defines a BoolText flag on fs with the text value as its
// default, such as the value of an environment variable.
func NewBoolText(fs *flag.FlagSet, name, value, usage string) *BoolText {
	b := BoolText(value)
	fs.Var(&b, name, usage)
	return &b
}

// String returns the flag's text.
func (b *BoolText) String() string {
	if b == nil {
		return ""
	}
	return string(*b)
}

// Set stores the text given on the command line, "true" for the flag alone.
func (b *BoolText) Set(text string) error {
	*b = BoolText(text)
	return nil
}

// IsBoolFlag reports true, so the flag package accepts the flag without a
// value.
func (b *BoolText) IsBoolFlag() bool { return true }
