"""GitHub's REST API, for the few things CI needs: sticky comments and one drift issue.

    Markdown ── sticky.split_into_comments ──► comment bodies (each ≤ 65,536 chars, marked)
    bodies + existing comments ── sticky.plan_comment_updates ──► create / update / delete
    GitHubClient ── list (paginated), create, update, delete; find, open, update, close an issue

`sticky` is pure; `client` is the only module here that speaks HTTP. It is the one exception to
"only `alma/` talks HTTP": GitHub is not Alma, and keeping it out of `alma/` keeps Alma's
quirks, limits and keys in one place and the GitHub token in another.
"""
