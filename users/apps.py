from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "users"
    verbose_name = "Users"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from users.models import User

        def forget(sender: type, instance: User, **kwargs: object) -> None:
            from users.services import auth_state_forget

            auth_state_forget(instance.pk)

        # Any saved or deleted user row drops its Redis snapshot (users.selectors).
        post_save.connect(forget, sender=User, dispatch_uid="users-auth-state-save", weak=False)
        post_delete.connect(forget, sender=User, dispatch_uid="users-auth-state-delete", weak=False)
