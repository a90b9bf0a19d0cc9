"""The learned model: its weights file, how it joins the rules, and shops' own models."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pytest

from services.core.policy import PolicyError, parse_policy
from services.router.app import load_shop_models
from services.router.classify import Classifier, classifier_for
from services.router.classify.model import ModelError, builtin_model, load_model


def _arrays(**meta_changes) -> dict:
    m = builtin_model()
    meta = {**m.meta, **meta_changes}
    rows = np.array(list(m.rows.values()))
    return {"features": np.array(list(m.rows)), "weights": rows[:, :9].astype(np.float32),
            "idf": np.sqrt(rows[:, 9]).astype(np.float32),
            "bias": np.array(m.bias, np.float32), "meta": np.array(json.dumps(meta))}


def test_the_builtin_model_is_package_data_and_loads_once():
    model = builtin_model()
    assert model is builtin_model()
    assert len(model.rows) > 5000 and {len(r) for r in model.rows.values()} == {10}
    assert model.meta["temperature"] > 0 and model.meta["examples"] >= 3500


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda a: a.pop("bias"), "expected arrays"),
        (lambda a: a.update(meta=np.array("{")), "meta is not JSON"),
        (lambda a: a.update(_arrays(features_version=99)), "features version 99"),
        (lambda a: a.update(_arrays(intents=["a", "b"])), "intents ['a', 'b']"),
        (lambda a: a.update(bias=np.zeros(3, np.float32)), "do not fit"),
        (lambda a: a.update(idf=a["idf"][:-1]), "do not fit"),
        (lambda a: a.pop("idf"), "expected arrays"),
        (lambda a: (a.update(_arrays(features_version=2)), a.pop("idf")),
         "features version 2 (this kefu reads 3): retrain"),
        (lambda a: a["weights"].__setitem__((0, 0), np.nan), "not all finite"),
    ],
)
def test_a_bad_weights_file_is_refused_with_its_name(tmp_path, change, problem):
    arrays = _arrays()
    change(arrays)
    path = tmp_path / "shop.npz"
    np.savez(path, **arrays)
    with pytest.raises(ModelError, match="shop.npz: ") as err:
        load_model(path)
    assert problem in str(err.value)


def test_a_missing_or_non_model_file_is_refused(tmp_path):
    with pytest.raises(ModelError, match="cannot read model"):
        load_model(tmp_path / "nope.npz")
    (tmp_path / "text.npz").write_text("not a zip")
    with pytest.raises(ModelError, match="text.npz: cannot read model"):
        load_model(tmp_path / "text.npz")


def test_the_router_refuses_to_start_on_a_bad_shop_model(tmp_path):
    good = tmp_path / "good.npz"
    np.savez(good, **_arrays())
    policy = parse_policy({"shops": {"s1": {"routing": {"model": str(good)}},
                                     "s2": {"routing": {"model": str(tmp_path / "x.npz")}}}},
                          "policy.yaml")
    with pytest.raises(PolicyError, match=r"policy.yaml: shops.s2.routing.model: .*x.npz"):
        load_shop_models(policy)
    with pytest.raises(PolicyError, match=r"shops.s1.routing.model: expected a model file"):
        parse_policy({"shops": {"s1": {"routing": {"model": "weights.bin"}}}}, "policy.yaml")


def test_rules_decide_where_they_are_precise():
    clf = classifier_for(None)
    intent, conf, reason = clf.intent("东西还行吧，不过我要投诉你们的快递")
    assert (intent, reason) == ("complaint", reason) and reason.endswith("(decisive)")
    assert conf >= 0.95
    assert clf.intent("我不是要投诉，就问问快递到哪了", stage="shipped")[0] == "logistics_inquiry"
    shop = classifier_for({"urge_shipment": ["加急单"]})
    assert shop.intent("加急单")[2] == 'urge_shipment: shop keyword "加急单"'


def test_the_reason_says_which_side_decided():
    clf = classifier_for(None)
    _, _, agree = clf.intent("我要退货", stage="delivered")
    assert re.fullmatch(r'return_refund: model [01]\.\d\d, keywords agree: "退货"', agree)
    _, _, alone = clf.intent("我拍的是蓝色 收到的是绿色", stage="delivered")
    assert re.match(r"quality_issue: model [01]\.\d\d", alone)


def test_rules_only_is_still_available():
    rules = Classifier(model=None)
    assert rules.model is None
    assert rules.intent("我要退货")[2] == 'return_refund: "退货"'


def test_routing_does_not_import_scikit_learn():
    code = ("import sys; from services.router.classify import classifier_for; "
            "classifier_for(None).classify('where is my parcel'); "
            "print('sklearn' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
