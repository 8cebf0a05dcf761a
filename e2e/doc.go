// Package e2e holds netpanel's end-to-end tests: they build the real
// binary, point it at a network namespace made for the test, and drive
// headless Chromium against it to check that pages render without errors
// and follow kernel changes live over the WebSocket.
//
// The tests need root, iproute2 and chromium; they skip locally when those
// are missing and fail under NETPANEL_REQUIRE_ALL=1, as CI runs them. Set
// NETPANEL_SHOTS=1 to keep the screenshots in /tmp/netpanel-shots/.
package e2e
