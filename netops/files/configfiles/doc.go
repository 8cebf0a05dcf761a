// Package configfiles saves the files netpanel generates (systemd-networkd
// .network/.netdev files, networkd.conf.d drop-ins, Docker's daemon.json)
// into their target directories.
//
// The flow is Plan, show Plan.UnifiedDiff to the admin, then Apply. A plan
// refuses to overwrite or delete a file netpanel did not write unless the
// admin takes it over; Apply refuses a plan whose targets changed since it
// was made, backs up every file it replaces, writes each file atomically
// (temp file, fsync, rename, directory fsync) and, if a step fails, puts the
// files it already replaced back before returning. Backups can be listed and
// restored, and a restore is itself backed up so it can be undone.
//
// WriteArchive builds a byte-identical .tar.gz export of a set of files.
package configfiles
