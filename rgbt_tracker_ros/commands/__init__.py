"""The top floor: one module per `rgbt-tracker` subcommand (parse, call, report). Nothing below imports it."""
