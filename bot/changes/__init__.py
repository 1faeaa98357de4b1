"""What changed: deploys from the change webhook, approved changes, playbook runs; matched to
the alerts they may have caused."""
