from django.contrib import admin

from batches.models import Batch, Profile

admin.site.register(Batch)
admin.site.register(Profile)
