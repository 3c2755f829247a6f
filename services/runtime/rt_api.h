/*
 * rt_api.h: see rt_api.c.  rt_api_keep() returns the number of drover_*
 * functions in the installed API; calling it anchors them all.
 */
#ifndef DROVER_RT_API_H
#define DROVER_RT_API_H

#include <stddef.h>

size_t	rt_api_keep(void);

#endif /* DROVER_RT_API_H */
