package networkd

import (
	"bytes"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/netpanel/netpanel/internal/testenv"
)

// glibcFnmatch asks glibc's own fnmatch(3), flags 0 (what networkd calls),
// through python3's ctypes in the C locale, for each pattern and name.
// bash is no reference: its matcher (sm_loop.c) differs from glibc's on
// a trailing backslash and on brackets left open.
func glibcFnmatch(t *testing.T, pairs [][2]string) []bool {
	t.Helper()
	py := testenv.RequireTool(t, "python3")
	const script = `import ctypes, sys
f = ctypes.CDLL("libc.so.6").fnmatch
out = []
for line in sys.stdin.buffer.read().split(b"\n")[:-1]:
    p, s = line.split(b"\t")
    out.append(b"1" if f(p, s, 0) == 0 else b"0")
sys.stdout.buffer.write(b"".join(out))
`
	var in bytes.Buffer
	for _, pr := range pairs {
		in.WriteString(pr[0] + "\t" + pr[1] + "\n")
	}
	cmd := exec.Command(py, "-c", script)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	cmd.Stdin = &in
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || len(out) != len(pairs) {
		t.Fatalf("python3 fnmatch: %v (%d answers for %d): %s", err, len(out), len(pairs), stderr.String())
	}
	res := make([]bool, len(pairs))
	for i, b := range out {
		res[i] = b == '1'
	}
	return res
}

// patternPieces build random patterns: every character a bracket
// expression, an escape or a star gives meaning to, class and collating
// forms whole and broken, and plain letters and digits.
var patternPieces = []string{
	"[", "]", "!", "^", "-", "*", "?", `\`, ":", ".", "=", "/",
	"[:digit:]", "[:alpha:]", "[:alnum:]", "[:upper:]", "[:space:]", "[:punct:]", "[:xdigit:]", "[:foo:]", "[:",
	"[=a=]", "[=", "[.a.]", "[.-.]", "[.", "[!", "[^", "[]", "[!]",
	"a", "b", "e", "t", "h", "z", "A", "0", "1", "9", "np", "eth",
}

// nameChars make the names: letters, digits and the special characters,
// which a name may hold literally.
const nameChars = "abehtzA019-[]!^*?\\:.=/_"

func randomPattern(r *rand.Rand) string {
	var b strings.Builder
	for range 1 + r.IntN(7) {
		b.WriteString(patternPieces[r.IntN(len(patternPieces))])
	}
	return b.String()
}

func randomName(r *rand.Rand) string {
	b := make([]byte, r.IntN(7))
	for i := range b {
		b[i] = nameChars[r.IntN(len(nameChars))]
	}
	return string(b)
}

// fnmatch decides as glibc's fnmatch does, over a table of hand-picked
// cases (the ones path.Match gets wrong among them) and thousands of
// random patterns against random names and against names made to match
// them: glibc answers each, through python3.
func TestFnmatchIsGlibcs(t *testing.T) {
	pairs := [][2]string{
		{"np[!x]*", "npa0"}, {"np[!x]*", "npx0"}, {"np[^x]*", "npa0"}, {"eth[[:digit:]]", "eth0"}, {"eth[[:digit:]]", "etha"},
		{"[[:alpha:]]*", "eth0"}, {"[[:alpha:]]*", "0eth"}, {"eth[", "eth["}, {"eth[0", "eth[0"}, {"eth[0", "eth0"},
		{"[", "["}, {`eth\`, `eth\`}, {`eth\0`, "eth0"}, {`eth\*`, "eth*"}, {`eth\*`, "eth0"}, {"a*b", "a/x/b"},
		{"?", "/"}, {"*", ".x"}, {"[]a]", "]"}, {"[!]a]", "b"}, {"[a-]", "-"}, {"[a-", "a"}, {"[ab", "[ab"},
		{"[ab", "a"}, {"[[:foo:]]", "f"}, {"[[:digit:]x", "1"}, {"[[:digit:]x", "[[:digit:]x"}, {"[=a=]", "a"},
		{"[.a.]", "a"}, {"[.-.]", "-"}, {"[a-[.c.]]", "b"}, {`[\]]`, "]"}, {`[a\-z]`, "b"}, {"*[", "x["},
		{"**a?*", "xxay"}, {"[z-a]", "m"}, {"[[:alpha:]-z]", "-"}, {`[=[:-\[.`, "[=[:-[."}, {`[a-\[.a.]]`, "b"},
	}
	r := rand.New(rand.NewPCG(11, 29))
	for range 20000 {
		p := randomPattern(r)
		pairs = append(pairs, [2]string{p, randomName(r)})
		// A name made of the pattern's own characters, with its
		// wildcards filled, matches it far more often than a random one.
		lit := strings.NewReplacer("*", "ab", "?", "z", `\`, "").Replace(p)
		pairs = append(pairs, [2]string{p, p}, [2]string{p, lit})
	}
	want := glibcFnmatch(t, pairs)
	matched, bad := 0, 0
	for i, pr := range pairs {
		got := fnmatch(pr[0], pr[1])
		if want[i] {
			matched++
		}
		if got != want[i] {
			if bad++; bad <= 20 {
				t.Errorf("fnmatch(%q, %q) = %v, glibc says %v", pr[0], pr[1], got, want[i])
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d differ", bad, len(pairs))
	}
	if matched < len(pairs)/10 {
		t.Errorf("glibc matched %d of %d pairs: the matches were hardly compared", matched, len(pairs))
	}
}

// FuzzFnmatch checks fnmatch never panics or runs away, and that a
// pattern without a special character matches itself alone.
func FuzzFnmatch(f *testing.F) {
	for _, s := range []string{"np[!x]*", "eth[[:digit:]]", "[", `\`, "[a-", "[[:", "[[=a=]]", "[[.a.]-z]", "*a*b*c", "eth0"} {
		f.Add(s, "eth0")
	}
	f.Fuzz(func(t *testing.T, p, s string) {
		got := fnmatch(p, s)
		if !strings.ContainsAny(p, "*?[\\\x00") && got != (p == s) {
			t.Fatalf("fnmatch(%q, %q) = %v for a pattern without a special character", p, s, got)
		}
	})
}
