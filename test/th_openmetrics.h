/*
 * th_openmetrics.h: check an OpenMetrics exposition with a real parser.
 *
 * th_om_parse() hands the text to prometheus_client (Debian's
 * python3-prometheus-client, installed by test/deps): its strict
 * OpenMetrics parser must take it, and so must its Prometheus text
 * parser.  It returns what the script printed, one line per family
 * ("F name type unit") and per sample ("S name labels value", labels as
 * k=v in name order, the value with six decimals), then "TEXT n".  The
 * caller frees it.  A refusal, or a missing python3, fails the test.
 *
 * th_om_want() asserts that the printed output holds one formatted
 * line (printing the whole output to stderr when it does not).
 */
#ifndef DROVER_TH_OPENMETRICS_H
#define DROVER_TH_OPENMETRICS_H

char	*th_om_parse(const char *exposition);
void	 th_om_want(const char *parsed, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

#endif
