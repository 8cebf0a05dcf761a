package web

import (
	"encoding/json"
	"testing"
)

// TestBatchMsgIsTheFramesInOrder: a batch is valid JSON whose frames are
// the frames given, in order, byte for byte.
func TestBatchMsgIsTheFramesInOrder(t *testing.T) {
	var frames [][]byte
	for _, m := range []map[string]string{
		{"type": "rows", "target": "routes", "html": `<tr data-k="a\"b">x &amp; y</tr>`},
		{"type": "html", "target": "summary", "html": "3 routes\n\u2028"},
		{"type": "status", "state": "live"},
	} {
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, b)
	}
	var got struct {
		Type   string            `json:"type"`
		Frames []json.RawMessage `json:"frames"`
	}
	if err := json.Unmarshal(batchMsg(frames), &got); err != nil {
		t.Fatalf("the batch is not JSON: %v", err)
	}
	if got.Type != "batch" || len(got.Frames) != len(frames) {
		t.Fatalf("type %q with %d frames, want batch with %d", got.Type, len(got.Frames), len(frames))
	}
	for i := range frames {
		if string(got.Frames[i]) != string(frames[i]) {
			t.Errorf("frame %d: %s, want %s", i, got.Frames[i], frames[i])
		}
	}
}
