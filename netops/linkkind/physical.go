package linkkind

// Physical and loopback devices have no kind: netpanel shows and
// configures them but never creates or deletes one, and networkd only
// writes their .network.
func init() {
	register(&Kind{Name: "", Physical: true, DevType: ""})
}
