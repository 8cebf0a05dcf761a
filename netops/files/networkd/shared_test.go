package networkd

import (
	"fmt"
	"os"
	"testing"
)

// TestMain fails the package's tests if one of them (through the
// foreign view, the checks, the predictions, the generator) wrote through
// a pointer the parser shares between files (shared values): a
// comparison with a fresh parse cannot see that, as the fresh parse
// points to the same changed value.
func TestMain(m *testing.M) {
	code := m.Run()
	if err := sharedIntact(); err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		code = 1
	}
	os.Exit(code)
}

// sharedIntact reports a shared value that no longer holds what it was
// made for.
func sharedIntact() error {
	if !sharedTrue || sharedFalse {
		return fmt.Errorf("the shared booleans were written through: true is %v, false is %v", sharedTrue, sharedFalse)
	}
	for n, v := range sharedNumbers {
		if v != uint32(n) {
			return fmt.Errorf("the shared number %d was written through: it is %d", n, v)
		}
	}
	return nil
}
