package owned

import (
	"fmt"
	"strings"
)

// IptablesCommand is the iptables command that makes the same rule in
// the mangle table, for admins who know that tool, or "" when iptables
// cannot say the same thing. An inet rule without an address matches
// IPv4 and IPv6: iptables needs one command for each.
func (r Rule) IptablesCommand() string {
	var args []string
	if r.Iif != "" {
		args = append(args, "-i", r.Iif)
	}
	if r.Oif != "" {
		args = append(args, "-o", r.Oif)
	}
	if r.Src.IsValid() {
		args = append(args, "-s", prefixText(r.Src))
	}
	if r.Dst.IsValid() {
		args = append(args, "-d", prefixText(r.Dst))
	}
	if r.Proto != 0 {
		args = append(args, "-p", r.protoName())
		if r.SPort.IsSet() {
			args = append(args, "--sport", iptPorts(r.SPort))
		}
		if r.DPort.IsSet() {
			args = append(args, "--dport", iptPorts(r.DPort))
		}
	}
	if r.HasUID {
		args = append(args, "-m", "owner", "--uid-owner", fmt.Sprint(r.UID))
	}
	if r.Comment != "" {
		args = append(args, "-m", "comment", "--comment", shellQuote(r.Comment))
	}
	args = append(args, r.iptTarget()...)
	chain := strings.ToUpper(string(r.Hook))
	line := func(tool string) string {
		return tool + " -t mangle -A " + chain + " " + strings.Join(args, " ")
	}
	switch r.ipName() {
	case "ip":
		return line("iptables")
	case "ip6":
		return line("ip6tables")
	}
	return line("iptables") + "; " + line("ip6tables")
}

// iptTarget is the MARK or CONNMARK target doing what actionText says.
// CONNMARK computes mark = (mark & ~nfmask) ^ (ctmark & ctmask) on restore
// and ctmark = (ctmark & ~ctmask) ^ (mark & nfmask) on save, so a full
// mask on the side written makes it the masked copy nft's rule is.
func (r Rule) iptTarget() []string {
	switch r.Kind {
	case KindRestore:
		if r.Mask == 0xffffffff {
			return []string{"-j", "CONNMARK", "--restore-mark"}
		}
		return []string{"-j", "CONNMARK", "--restore-mark", "--nfmask", "0xffffffff", "--ctmask", fmt.Sprintf("%#x", r.Mask)}
	case KindSave:
		if r.Mask == 0xffffffff {
			return []string{"-j", "CONNMARK", "--save-mark"}
		}
		return []string{"-j", "CONNMARK", "--save-mark", "--nfmask", fmt.Sprintf("%#x", r.Mask), "--ctmask", "0xffffffff"}
	}
	if r.Mask == 0xffffffff {
		return []string{"-j", "MARK", "--set-mark", fmt.Sprintf("%#x", r.Value)}
	}
	// The value has no bits outside the mask, so XOR sets them as OR does.
	return []string{"-j", "MARK", "--set-xmark", fmt.Sprintf("%#x/%#x", r.Value, r.Mask)}
}

func iptPorts(p PortRange) string {
	if p.From == p.To {
		return fmt.Sprint(p.From)
	}
	return fmt.Sprintf("%d:%d", p.From, p.To)
}
