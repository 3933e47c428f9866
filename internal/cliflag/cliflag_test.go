package cliflag

import (
	"flag"
	"io"
	"testing"
)

func TestBoolTextForms(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"default", nil, "from-env"},
		{"alone", []string{"-on"}, "true"},
		{"false", []string{"-on=false"}, "false"},
		{"invalid text kept", []string{"-on=maybe"}, "maybe"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fs := flag.NewFlagSet("test", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			on := NewBoolText(fs, "on", "from-env", "a switch")
			if err := fs.Parse(tt.args); err != nil {
				t.Fatalf("Parse(%q): %v", tt.args, err)
			}
			if got := on.String(); got != tt.want {
				t.Errorf("Parse(%q): value %q, want %q", tt.args, got, tt.want)
			}
		})
	}
}

func TestBoolTextDoesNotTakeNextArgument(t *testing.T) {
	t.Parallel()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	on := NewBoolText(fs, "on", "false", "a switch")
	if err := fs.Parse([]string{"-on", "rest"}); err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if on.String() != "true" {
		t.Errorf("value %q, want %q", on.String(), "true")
	}
	if fs.NArg() != 1 || fs.Arg(0) != "rest" {
		t.Errorf("arguments %q, want [rest]", fs.Args())
	}
}
