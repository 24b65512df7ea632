from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "users"
    verbose_name = "Users"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from users.models import User

        def saved(sender: type, instance: User, created: bool = False, **kwargs: object) -> None:
            from users.services import auth_state_forget, auth_state_store_new

            if created:
                auth_state_store_new(instance)
            else:
                auth_state_forget(instance.pk)

        def deleted(sender: type, instance: User, **kwargs: object) -> None:
            from users.services import auth_state_forget

            auth_state_forget(instance.pk)

        # A new user row is snapshotted in Redis; any later save or delete drops the snapshot
        # (users.selectors.user_for_access_payload reads it).
        post_save.connect(saved, sender=User, dispatch_uid="users-auth-state-save", weak=False)
        post_delete.connect(
            deleted, sender=User, dispatch_uid="users-auth-state-delete", weak=False
        )
