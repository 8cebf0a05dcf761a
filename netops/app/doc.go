// Package app is netpanel's application layer: the use cases between the
// HTTP handlers and the netops packages (apply a change with
// commit-confirm, plan, save, restore and export configuration files, set
// up Docker's bridge, name routing tables), each written to the audit log
// here and nowhere else, and the Identity that acts in them.
//
// It knows nothing of HTTP, forms or templates: handlers translate
// requests into calls of this package and its results into view models.
package app
