# Sourced by the gateway benchmarks: edits of a generated site (wardgate-gen-site).
#   add_device FROM TO [K]   copies site FROM to TO with one device more: a copy of its last
#                            device named bench-extra-K at host .(4093-K) of its /20, which no
#                            generated device or flow uses (K from 0 to 40, default 0)
add_device() {
  local from=$1 to=$2 k=${3:-0}
  cp -r "$from" "$to"
  rm -rf "$to/.wardgate"
  awk -v k="$k" '
    /^\[\[device\]\]/ { block = ""; collecting = 1 }
    collecting { block = block $0 "\n" }
    END {
      n = split(block, lines, "\n")
      for (i = 1; i <= n; i++) {
        line = lines[i]
        if (line ~ /^name = /) line = "name = \"bench-extra-" k "\""
        else if (line ~ /^mac = /) continue
        else if (line ~ /^addresses = /) {
          match(line, /[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+/)
          split(substr(line, RSTART, RLENGTH), o, ".")
          v = ((o[1] * 256 + o[2]) * 256 + o[3]) * 256 + o[4]
          v = v - v % 4096 + 4093 - k
          line = sprintf("addresses = [\"%d.%d.%d.%d\"]", int(v / 16777216) % 256, int(v / 65536) % 256, int(v / 256) % 256, v % 256)
        }
        if (i < n || line != "") print line
      }
    }' "$from/devices.toml" | { printf '\n'; cat; } >>"$to/devices.toml"
}
