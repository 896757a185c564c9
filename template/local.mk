# Yours: created once with the project, never changed by `make update`.
# The Makefile (template-owned) includes this file at its end: put your own
# targets and variables here instead of editing the Makefile, and template
# updates merge without conflicts. The Makefile's variables ($(DEV), the
# dev stack's compose command) work here; a target with a `## description`
# is listed by `make help`. For example:
#
# .PHONY: dev-logs
# dev-logs: ## follow the development stack's logs
# 	$(DEV) logs --follow
