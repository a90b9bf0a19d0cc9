"""Shared code of the role services (pre-sale and after-sale): agent assignment, SLA clocks,
escalations. `services.presale` and `services.aftersale` add their order/case clock rules
and a composition root each (`build_role_app`)."""
