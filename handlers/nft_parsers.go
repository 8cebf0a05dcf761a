package handlers

import (
	"net/url"

	"github.com/netpanel/netpanel/netops/kernel/change"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/nftables"
	"github.com/netpanel/netpanel/netops/nftables/owned"
	"github.com/netpanel/netpanel/netops/nftables/trace"
	"github.com/netpanel/netpanel/views"
)

// nftParsers are the changes to netpanel's nftables table: "nft" adds a
// mark rule, "nft-del" deletes one by chain and handle. A delete reads
// the rule from the nftables model, to put it back if the change is
// rolled back and to tell whether it matches the admin's connection.
func nftParsers(store *model.Store, nft *nftables.Store) map[string]changeParser {
	return map[string]changeParser{
		"nft": {func(f url.Values, _ model.TableNames) ([]change.Op, error) {
			r, err := owned.Parse(owned.Form{Hook: f.Get("hook"), Kind: f.Get("action"), Proto: f.Get("proto"),
				Src: f.Get("src"), Dst: f.Get("dst"), SPort: f.Get("sport"), DPort: f.Get("dport"),
				Iif: f.Get("iif"), Oif: f.Get("oif"), UID: f.Get("uid"), Mark: f.Get("mark"), Mask: f.Get("mask"),
				Comment: f.Get("comment")}, nil)
			if err != nil {
				return nil, formNames(err, nftFormNames)
			}
			return []change.Op{owned.NewAdd(r)}, nil
		}, fieldNames(views.NftFormFields)},
		"nft-del": {func(f url.Values, _ model.TableNames) ([]change.Op, error) {
			var names []string
			for _, l := range store.Links() {
				names = append(names, l.Name)
			}
			return one(owned.NewDelete(nft.Ruleset(), trace.StoreLinks(store), names, f.Get("hook"), f.Get("handle")))
		}, []string{"handle", "hook"}},
	}
}

// nftFormNames: the rule's kind is "action" in the form and the API,
// since "kind" names the change.
var nftFormNames = map[string]string{"kind": "action"}
