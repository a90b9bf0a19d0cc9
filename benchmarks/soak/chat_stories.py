"""Traffic stories of the agents and buyer chats: shift start, breaks, conversations."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from benchmarks.soak.story_types import AgentSpec, OrderSpec, ShopSpec, Step
from services.demo.catalogue import CATALOGUE

PHRASES, OPENERS, CLOSERS = (CATALOGUE.buyer_phrases, CATALOGUE.buyer_openers,
                             CATALOGUE.buyer_closers)


class ChatStories:
    """The chat and agent-status stories of `Traffic` (a mixin)."""

    def _shift_start(self, shop: ShopSpec) -> Iterator[Step]:
        for agent in shop.agents:
            yield Step(self.rng.uniform(0.05, 0.5), "agent.status", self._status(agent, "online"))

    def _agent_break(self, shop: ShopSpec) -> Iterator[Step]:
        agent = self.rng.choice(shop.agents)
        yield Step(0.0, "agent.status", self._status(agent, "away"))
        yield Step(self.rng.uniform(60, 300), "agent.status", self._status(agent, "online"))

    @staticmethod
    def _status(agent: AgentSpec, status: str) -> dict[str, Any]:
        return {"agent_id": agent.agent_id, "roles": list(agent.roles), "status": status,
                "max_concurrent": agent.max_concurrent}

    def _chat(self, shop: ShopSpec) -> Iterator[Step]:
        """A buyer chat: 1-4 rounds of buyer messages and agent replies. 90% of replies
        come within the 3-minute SLA, 5% late, and 5% of the rounds are never answered;
        then the conversation is closed (by the platform after idling, if nobody else)."""
        rng = self.rng
        english = rng.random() < 0.25
        traditional = not english and rng.random() < 0.06
        order = rng.choice(shop.orders) if shop.orders and rng.random() < 0.45 else None
        conv = self._id("conv")
        buyer = order.buyer_id if order else self._id("buyer")
        nick, client = rng.choice(CATALOGUE.buyer_nicks), rng.choice(("ios", "android", "pc"))
        rounds = rng.choices((1, 2, 3, 4), (35, 30, 20, 15))[0]
        agent = self._agent(shop, order)
        delay = 0.0
        for r in range(rounds):
            for m in range(rng.choices((1, 2, 3), (60, 30, 10))[0]):
                text = self._buyer_text(english, traditional, order, r == 0 and m == 0)
                yield Step(delay, "buyer.message",
                           self._buyer(conv, buyer, nick, client, text, order))
                delay = rng.uniform(2, 20)
            fate = rng.random()
            if fate < 0.05:  # nobody answers: the buyer may ask again, then gives up,
                if rng.random() < 0.5:  # and the platform closes the idle conversation
                    text = "还有人吗？？" if not english else "hello??"
                    yield Step(rng.uniform(60, 150), "buyer.message",
                               self._buyer(conv, buyer, nick, client, text, order))
                yield Step(rng.uniform(300, 600), "conversation.closed",
                           {"conversation_id": conv, "closed_by": "system"})
                return
            reply = (min(rng.lognormvariate(math.log(35), 0.7), 170) if fate < 0.95
                     else rng.uniform(185, 300))
            yield Step(reply, "agent.message", self._reply(conv, agent, english))
            if rng.random() < 0.3:
                yield Step(rng.uniform(3, 15), "agent.message", self._reply(conv, agent, english))
            delay = rng.uniform(15, 90)
        # Every conversation ends: closed by the buyer or the agent, or by the platform
        # once it has been idle for a while.
        closed_by = rng.choices(("buyer", agent.agent_id, "system"), (40, 35, 25))[0]
        idle = rng.uniform(180, 600) if closed_by == "system" else rng.uniform(20, 120)
        yield Step(idle, "conversation.closed", {"conversation_id": conv, "closed_by": closed_by})

    def _agent(self, shop: ShopSpec, order: OrderSpec | None) -> AgentSpec:
        role = "aftersale" if order and order.stage in ("shipped", "delivered",
                                                         "aftersale") else "presale"
        team = [a for a in shop.agents if role in a.roles] or shop.agents
        return self.rng.choice(team)

    def _buyer_text(self, english: bool, traditional: bool, order: OrderSpec | None,
                    first: bool) -> str:
        rng = self.rng
        roll = rng.random()
        if traditional:
            return self._text(rng.choice(CATALOGUE.buyer_phrases_traditional), order)
        stage = order.stage if order else None
        language = "en" if english else "zh"
        phrases = getattr(PHRASES, language)
        if first and stage is None and roll < 0.25 and phrases.greeting:
            return rng.choice(phrases.greeting)
        pool = (phrases.angry if roll < 0.02 else phrases.ack if roll < 0.12 and not first else
                phrases.presale if stage is None else phrases.order if stage in ("created", "paid")
                else phrases.shipped if stage == "shipped" else phrases.aftersale)
        opener = rng.choice(getattr(OPENERS, language))
        closer = self._closer(getattr(CLOSERS, language), order)
        return self._text(opener + rng.choice(pool) + closer, order)

    def _closer(self, closers: tuple[str, ...], order: OrderSpec | None) -> str:
        closer = self.rng.choice(closers)
        return closer if order is not None or "{o}" not in closer else ""

    def _buyer(self, conv: str, buyer: str, nick: str, client: str, text: str,
               order: OrderSpec | None) -> dict[str, Any]:
        payload: dict[str, Any] = {"conversation_id": conv, "buyer_id": buyer,
                                   "message_id": self._id("msg"), "text": text,
                                   "buyer_nick": nick, "client": client}
        if order is not None and self.rng.random() < 0.6:
            payload["order_id"] = order.order_id
        if self.rng.random() < 0.1:
            payload["attachments"] = [{"type": "image", "url":
                                       f"https://img.example.cn/chat/{self.rng.getrandbits(40):x}.jpg"}]
        return payload

    def _reply(self, conv: str, agent: AgentSpec, english: bool) -> dict[str, Any]:
        text = self.rng.choice(CATALOGUE.agent_replies.en if english
                               else CATALOGUE.agent_replies.zh)
        return {"conversation_id": conv, "agent_id": agent.agent_id,
                "message_id": self._id("msg"), "text": text}
