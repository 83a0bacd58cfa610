"""The persistent episode archive under content/: load, merge a build's feeds in, save."""

from __future__ import annotations
