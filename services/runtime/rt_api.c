/*
 * rt_api.c: keeps every drover_* function in the programs.
 *
 * The programs link the core as a static archive, from which the linker
 * takes only the members something refers to; the plugins' references
 * come at dlopen() time, too late.  This table refers to the whole
 * installed API, and rt_worker_new() and rt_api_keep() refer to the
 * table, so a program that can load plugins exports all of drover/
 * service.h (ld --dynamic-list does the exporting).
 */
#include "services/runtime/rt_api.h"

#include "drover/service.h"

static void (*const volatile api[])(void) = {
	(void (*)(void))drover_register_method,
	(void (*)(void))drover_svc_name,
	(void (*)(void))drover_svc_settings,
	(void (*)(void))drover_svc_set_data,
	(void (*)(void))drover_svc_data,
	(void (*)(void))drover_log,
	(void (*)(void))drover_vlog,
	(void (*)(void))drover_req_svc,
	(void (*)(void))drover_req_method,
	(void (*)(void))drover_req_xid,
	(void (*)(void))drover_req_params,
	(void (*)(void))drover_req_argc,
	(void (*)(void))drover_req_param,
	(void (*)(void))drover_respond,
	(void (*)(void))drover_respond_new,
	(void (*)(void))drover_respond_complete,
	(void (*)(void))drover_respond_complete_new,
	(void (*)(void))drover_req_error,
	(void (*)(void))drover_req_panic,
	(void (*)(void))drover_cache_get,
	(void (*)(void))drover_cache_put,
	(void (*)(void))drover_cache_delete,
	(void (*)(void))drover_cache_strerror,
	(void (*)(void))drover_client_open,
	(void (*)(void))drover_client_free,
	(void (*)(void))drover_client_connect,
	(void (*)(void))drover_client_disconnect,
	(void (*)(void))drover_client_request,
	(void (*)(void))drover_client_recv,
	(void (*)(void))drover_client_status,
	(void (*)(void))drover_call,
};

size_t
rt_api_keep(void)
{
	return sizeof(api) / sizeof(api[0]);
}
