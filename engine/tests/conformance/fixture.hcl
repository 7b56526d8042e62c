# Shared values for the HCL conformance corpus (see README.md).
#
# Every case in cases.json is evaluated with exactly these locals in scope, in
# Terraform by generate.py and in posture by its conformance test. Changing a
# value here changes the expected results: regenerate cases.json afterwards.
locals {
  # Strings
  str        = "hello"
  str_empty  = ""
  str_space  = "  padded value \n"
  str_mixed  = "Hello World-foo_bar"
  str_num    = "42"
  str_float  = "3.25"
  str_bool   = "true"
  str_path   = "/var/lib/app/data.txt"
  str_html   = "<a href=\"x\">Tom & Jerry</a>"
  str_quote  = "say \"hi\"\tnow\\back"
  str_dollar = "cost: $${price} and %%{literal}"
  unicode    = "héllo wörld ✓ 日本"
  emoji      = "a😀b"

  # Numbers
  int      = 42
  zero     = 0
  neg      = -7
  float    = 3.14159
  neg_flt  = -2.5
  big      = 9007199254740993
  huge     = 1e+30
  tiny     = 0.000001
  half     = 0.5
  str_list = ["10", "9", "100", "1", "-2"]

  # Bools and null
  yes     = true
  no      = false
  nothing = null

  # Collections
  list_str    = ["b", "a", "c", "a"]
  list_num    = [3, 1, 2, 10, -4]
  list_float  = [1.5, 2.25, -0.75]
  list_empty  = []
  list_mixed  = ["a", 1, true]
  list_nested = [["a", "b"], ["c"], [], ["d", "e"]]
  list_nulls  = ["a", null, "", "b", null]

  map_str   = { b = "two", a = "one", c = "three" }
  map_num   = { x = 1, y = 2, z = 3 }
  map_mixed = { name = "web", port = 8080, enabled = true }
  map_empty = {}

  obj = {
    name = "app"
    port = 443
    tags = ["a", "b"]
    meta = {
      owner = "team-x"
      tier  = 2
    }
  }

  people = [
    { name = "ann", age = 31, team = "red" },
    { name = "bob", age = 25, team = "blue" },
    { name = "cid", age = 40, team = "red" },
  ]

  clusters = {
    prod-eu = {
      region = "eu-west-1"
      nodes  = 30
      labels = { env = "prod", zone = "eu" }
    }
    prod-us = {
      region = "us-east-1"
      nodes  = 50
      labels = { env = "prod", zone = "us" }
    }
    dev = {
      region = "eu-west-1"
      nodes  = 3
      labels = { env = "dev", zone = "eu" }
    }
  }

  set_str   = toset(["b", "a", "c", "a"])
  set_num   = toset([10, 2, 33, 2])
  set_mixed = toset(["b", "10", "a", "9", "B", "_x"])

  # Multi-line strings
  heredoc = <<EOT
line one
  line two
line three
EOT

  heredoc_indent = <<-EOT
    first
      second
    third
  EOT

  heredoc_interp = <<-EOT
    name=${"app"}
    %{~for i in [1, 2, 3]~}
    item${i}
    %{~endfor~}
    done
  EOT

  heredoc_for_plain = <<-EOT
    start
    %{for i in [1, 2]}
    item${i}
    %{endfor}
    end
  EOT

  yaml_doc = <<-EOT
    name: app
    replicas: 3
    ports:
      - 80
      - 443
    enabled: true
    ratio: 0.5
    nothing: null
    labels:
      env: prod
  EOT

  # Heredocs as users template them (L1 #2): hosts.toml, YAML labels,
  # if/else with strip markers, cloud-init; and the parser's edge cases.
  hd_hosts  = ["a.example", "b.example"]
  hd_labels = { app = "web", tier = "front" }
  hd_on     = true

  hd_hosts_toml = <<-EOT
    server = "https://docker.io"
    %{ for m in local.hd_hosts ~}
    [host."https://${m}"]
      capabilities = ["pull", "resolve"]
    %{ endfor ~}
  EOT

  hd_hosts_toml_blank = <<-EOT
    server = "https://docker.io"
    %{ for m in local.hd_hosts ~}

    [host."https://${m}"]
      capabilities = ["pull", "resolve"]
    %{ endfor ~}
  EOT

  hd_yaml_labels = <<-EOT
    metadata:
      labels:
        %{~ for k, v in local.hd_labels ~}
        ${k}: ${v}
        %{~ endfor ~}
    spec: {}
  EOT

  hd_if_else = <<-EOT
    [main]
    %{ if local.hd_on ~}
    debug = true
    %{ else ~}
    debug = false
    %{ endif ~}
    port = 80
  EOT

  hd_if_else_off = <<-EOT
    [main]
    %{ if !local.hd_on ~}
    debug = true
    %{~ else ~}
    debug = false
    %{~ endif ~}
    port = 80
  EOT

  hd_cloud_init = <<-EOT
    #cloud-config
    runcmd:
    %{ for h in local.hd_hosts ~}
      - echo ${h}
    %{ endfor ~}
    final_message: done
  EOT

  hd_strip_eol = <<EOT
%{ for h in local.hd_hosts ~}
    ${h}
%{ endfor ~}
EOT

  hd_zero_indent = <<-EOT
    a
${"b"}
    c
  EOT

  hd_dedent_body = <<-EOT
    a
    %{ if true }
      b
    %{ endif }
    c
  EOT

  hd_blank_lines = <<-EOT
    a

  
      
    b
  EOT

  hd_empty = <<EOT
EOT
  hd_after_empty = "still here"
  hd_empty_flush = <<-EOT
    EOT
  hd_marker_prefix = <<EOT
EOTX
  EOT2 done
EOT # is text
EOT

  hd_strip_line_start = <<EOT
a
%{~ for h in local.hd_hosts ~}
${h}
%{~ endfor ~}
z
EOT

  hd_interp_strip_line_start = <<-EOT
    a
${~ "b" ~}
    c
  EOT

  hd_escapes = <<-EOT
    a\nb $${x} %%{y}
    %{ if true }$${z}%{ endif }
  EOT

  json_doc = "{\"b\":[1,2,{\"c\":null}],\"a\":\"x\",\"n\":1.5,\"t\":true}"

  # L1: a line that starts with the marker and goes on is text.
  hd_marker_comment = <<EOT
x
EOT # done
EOT.
y
EOT
}
