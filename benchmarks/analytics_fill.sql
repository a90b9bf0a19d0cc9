-- The query benchmark's month: the stored events of one shop (messages and commerce rows
-- three to one), the rounds and clocks they would give, and escalations; rows ordered by
-- time and inserted in chunks as ingestion would. The braces are filled by
-- benchmarks/analytics_bench.py (Python str.format): the shop, the start, the row count
-- of each table, and each chunk's offset and size.
INSERT INTO messages
SELECT '{shop}', at, concat('m', toString(number)), kind,
       if(number % 3 = 0, 'aftersale', 'presale'), concat('c', toString(intDiv(number, 7))),
       concat('b', toString(intDiv(number, 7) % 150000)),
       if(kind = 'agent.message', concat('agent-', toString(number % 40)), ''),
       if(kind = 'buyer.message', ['greeting', 'product_inquiry', 'bargaining', 'order_change',
          'urge_shipment', 'logistics_inquiry', 'return_refund', 'quality_issue',
          'complaint'][cityHash64(number) % 9 + 1], ''),
       '', if(kind = 'buyer.message' AND cityHash64(number) % 10 < 3,
              concat('sku-', toString(cityHash64(number, 1) % 2000)), ''),
       '', '', '', toDate(at, 'Asia/Shanghai'), toHour(at, 'Asia/Shanghai'),
       toDayOfWeek(at, 0, 'Asia/Shanghai')
FROM (SELECT number,
             toDateTime64('{start}', 3, 'UTC') + toIntervalMillisecond(intDiv(number * {month_ms}, {messages})) AS at,
             multiIf(number % 20 < 9, 'buyer.message', number % 20 < 18, 'agent.message',
                     'conversation.closed') AS kind
      FROM numbers({offset_messages}, {chunk_messages}));
INSERT INTO commerce
SELECT '{shop}', at, concat('o', toString(number)), kind, concat('order-', toString(intDiv(number, 4))),
       concat('b', toString(intDiv(number, 4) % 150000)), '', '',
       if(kind = 'review.posted', [concat('sku-', toString(cityHash64(number) % 2000))], []),
       '', '', '', if(kind = 'review.posted', toUInt8(cityHash64(number) % 5 + 1), 0),
       toDate(at, 'Asia/Shanghai'), toHour(at, 'Asia/Shanghai'), toDayOfWeek(at, 0, 'Asia/Shanghai')
FROM (SELECT number,
             toDateTime64('{start}', 3, 'UTC') + toIntervalMillisecond(intDiv(number * {month_ms}, {commerce})) AS at,
             ['order.paid', 'order.shipped', 'logistics.update', 'review.posted'][number % 4 + 1] AS kind
      FROM numbers({offset_commerce}, {chunk_commerce}));
INSERT INTO rounds
SELECT '{shop}', at, concat('r', toString(number)), concat('c', toString(number)),
       if(number % 3 = 0, 'aftersale', 'presale'),
       if(number % 3 = 0, 'first_response', 'next_response'),
       ['greeting', 'product_inquiry', 'bargaining', 'return_refund'][number % 4 + 1],
       '', concat('b', toString(number % 150000)),
       if(ending = 'reply', concat('agent-', toString(number % 40)), ''), ending,
       if(ending = '', NULL, at + toIntervalMillisecond(business)),
       if(ending = 'reply', business, NULL), if(ending = 'reply', business, NULL),
       at + toIntervalSecond(180), at + toIntervalSecond(180),
       toDate(at, 'Asia/Shanghai'), toHour(at, 'Asia/Shanghai'), toDayOfWeek(at, 0, 'Asia/Shanghai'),
       if(ending = '', 1, 2)
FROM (SELECT number,
             toDateTime64('{start}', 3, 'UTC') + toIntervalMillisecond(intDiv(number * {month_ms}, {rounds})) AS at,
             multiIf(number % 20 < 18, 'reply', number % 20 = 18, 'closed', '') AS ending,
             cityHash64(number) % 400000 AS business
      FROM numbers({offset_rounds}, {chunk_rounds}));
INSERT INTO clocks
SELECT '{shop}', at, concat('ship_by:order:', toString(number)), 'ship_by', 'order',
       concat('order-', toString(number)), 'presale', at + toIntervalHour(48),
       if(number % 10 < 9, at + toIntervalHour(cityHash64(number) % 60), NULL), 0, 2
FROM (SELECT number,
             toDateTime64('{start}', 3, 'UTC') + toIntervalMillisecond(intDiv(number * {month_ms}, {clocks})) AS at
      FROM numbers({offset_clocks}, {chunk_clocks}));
INSERT INTO escalations
SELECT '{shop}', at, concat('e', toString(number)), 'presale', 'conversation',
       concat('c', toString(number)), 'first_response', if(number % 3 = 0, 2, 1),
       if(number % 3 = 0, 'breached', 'warning'), at, NULL, ''
FROM (SELECT number,
             toDateTime64('{start}', 3, 'UTC') + toIntervalMillisecond(intDiv(number * {month_ms}, {escalations})) AS at
      FROM numbers({offset_escalations}, {chunk_escalations}))
