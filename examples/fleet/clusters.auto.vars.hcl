clusters = {
  mgmt    = { region = "eu-west-1", env = "mgmt" }
  prod-eu = { region = "eu-west-1", env = "prod", nodes = 40 }
  prod-us = { region = "us-east-1", env = "prod", nodes = 25 }
}
