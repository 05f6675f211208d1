"""Channel variables shared between the FastAGI handlers and dialplans/pbx.conf."""

ACTION = "PBX_ACTION"  # an extension of [pbx-apply]: dial, announce, hangup, unknown, failure
DIAL = "PBX_DIAL"  # Dial() target, e.g. PJSIP/101-k3f9x2ab
RING_SECONDS = "PBX_RING_SECONDS"
TENANT = "PBX_TENANT"
PLAYBACK = "PBX_PLAYBACK"  # a prompt as Asterisk sees it, without extension
IVR = "PBX_IVR"  # the menu being played
ATTEMPT = "PBX_ATTEMPT"  # 1-based attempt at that menu
TIMEOUT = "PBX_TIMEOUT"  # seconds to wait for a key
NOTICE = "PBX_NOTICE"  # an Asterisk sound played before the next step
AFTER = "PBX_AFTER"  # ring group whose next destination an unanswered call takes
CALLER_ID = "PBX_CALLER_ID"  # outbound: the tenant number the far end sees
RECORD = "PBX_RECORD"  # when set: record the call into the spool under this stem (pbx/domain/recording.py)
RECORDING_NOTICE = "PBX_REC_NOTICE"  # when set: a sound played to an inbound caller before anything else
MAX_CALLS = "PBX_MAX_CALLS"  # when set: the tenant's concurrent-call cap ([pbx-limit] refuses past it)
