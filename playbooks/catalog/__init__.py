"""Built-in playbooks: each module here defines PLAYBOOK and is found automatically."""
