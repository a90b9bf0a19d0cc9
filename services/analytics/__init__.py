"""Analytics for the data analyst (数据分析专员): kefu's history in ClickHouse (chDB
embedded, or a server) and the reports, time series and SQL on top of it."""
