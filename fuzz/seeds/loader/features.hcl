# A seed touching most block types and meta-arguments the loader knows.
posture {
  required_version = ">= 0.1, < 2"
}

variable "names" {
  type    = list(string)
  default = ["a", "b"]
  validation {
    condition     = length(var.names) > 0
    error_message = "At least one name."
  }
}

variable "token" {
  type      = string
  default   = "s3cret"
  sensitive = true
  nullable  = false
}

variable "shape" {
  type = object({
    size = optional(number, 3)
    tags = optional(map(string))
    pair = tuple([string, bool])
  })
  default = { pair = ["x", true] }
}

locals {
  doubled = [for i, n in var.names : "${n}-${i * 2}" if n != ""]
  lookup  = { for n in var.names : n => upper(n)... }
  text    = <<-EOT
    %{ for n in var.names ~}
    name: ${n}
    %{ endfor ~}
    %{ if var.shape.size > 2 }big%{ else }small%{ endif }
  EOT
  splat   = posture_data.counted[*].id
  cond    = var.shape.tags == null ? {} : var.shape.tags
}

resource "posture_data" "counted" {
  count = 2
  input = { index = count.index, text = local.text }
  lifecycle {
    create_before_destroy = true
    ignore_changes        = [input]
  }
}

resource "posture_data" "each" {
  for_each         = toset(var.names)
  input            = try(local.lookup[each.key][0], each.value)
  triggers_replace = [posture_data.counted[0].id]
  depends_on       = [posture_data.counted]
  lifecycle {
    replace_triggered_by = [posture_data.counted[0]]
    prevent_destroy      = false
  }
}

output "ids" {
  value       = { for k, r in posture_data.each : k => r.id }
  description = "ids"
}

output "token" {
  value     = var.token
  sensitive = true
}
