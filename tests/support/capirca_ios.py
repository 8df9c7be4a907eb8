#!/usr/bin/python3
"""A second opinion on wardgate's Cisco IOS access lists: Capirca (Debian's python3-capirca,
an ACL generator written independently of wardgate) renders the same terms as IOS extended
IPv4 and IPv6 access lists.

Reads JSON from standard input:
  {"acls": [{"name": "wg-4", "family": "inet" | "inet6",
             "terms": [{"src": ["10.0.0.0/24"] or [] for any, "dst": [...],
                        "protocol": "tcp" | "udp" | "icmp" | "icmpv6" | "esp" | "ah" | "gre" | "50" | "" (every),
                        "ports": ["443", "1000-2000"], "icmp_types": [8], "icmp_codes": [4],
                        "action": "accept" | "deny"}]}]}
and writes Capirca's output (every list) to standard output.
"""
import json
import os
import sys
import tempfile

from capirca.lib import aclgenerator, cisco, naming, policy


def icmp_name(family, number):
    table = policy.Term.ICMP_TYPE[4 if family == "inet" else 6]
    for name, value in table.items():
        if value == number:
            return name
    raise SystemExit(f"capirca has no name for ICMP type {number} ({family})")


def protocol_name(protocol):
    """Capirca renders a protocol it knows by name; a bare number it does not render."""
    if not protocol.isdigit():
        return protocol
    name = aclgenerator.Term.PROTO_MAP_BY_NUMBER.get(int(protocol))
    if name is None:
        raise SystemExit(f"capirca has no name for IP protocol {protocol}")
    return name


def main():
    spec = json.load(sys.stdin)
    with tempfile.TemporaryDirectory() as defs:
        networks, services, pol = [], [], []
        for a, acl in enumerate(spec["acls"]):
            pol.append("header {\n  target:: cisco %s %s\n}\n" % (acl["name"], "extended" if acl["family"] == "inet" else "inet6"))
            for t, term in enumerate(acl["terms"]):
                name = f"t{a}-{t}"
                lines = ["term %s {" % name]
                for side, key in (("SRC", "src"), ("DST", "dst")):
                    if term[key]:
                        net = f"N{a}_{t}_{side}"
                        networks.append(f"{net} =\n" + "".join(f"    {p}\n" for p in term[key]))
                        lines.append(f"  {'source' if key == 'src' else 'destination'}-address:: {net}")
                if term["ports"]:
                    svc = f"S{a}_{t}"
                    services.append(f"{svc} =\n" + "".join(f"    {p}/{protocol_name(term['protocol'])}\n" for p in term["ports"]))
                    lines.append(f"  destination-port:: {svc}")
                if term["protocol"]:
                    lines.append(f"  protocol:: {protocol_name(term['protocol'])}")
                if term["icmp_types"]:
                    lines.append("  icmp-type:: " + " ".join(icmp_name(acl["family"], n) for n in term["icmp_types"]))
                if term["icmp_codes"]:
                    lines.append("  icmp-code:: " + " ".join(str(c) for c in term["icmp_codes"]))
                lines.append(f"  action:: {term['action']}")
                lines.append("}")
                pol.append("\n".join(lines) + "\n")
        with open(os.path.join(defs, "networks.net"), "w") as f:
            f.write("\n".join(networks) + "\n")
        with open(os.path.join(defs, "services.svc"), "w") as f:
            f.write("\n".join(services) + "\n")
        parsed = policy.ParsePolicy("\n".join(pol), naming.Naming(defs), optimize=False)
        sys.stdout.write(str(cisco.Cisco(parsed, 0)))


if __name__ == "__main__":
    main()
