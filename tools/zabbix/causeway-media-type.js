// causeway webhook media type for Zabbix 6.0 and later (Alerts > Media types > Create media
// type > Type: Webhook). Paste this file as the script, and add these parameters:
//
//   url           http://causeway.example:8999/v1/causeway/zabbix
//   token         the [auth_token] of causeway serve (leave empty in noauth mode)
//   host          {HOST.HOST}
//   trigger_id    {TRIGGER.ID}
//   trigger_name  {TRIGGER.NAME}
//   rawtext       {TRIGGER.NAME.ORIG}
//   severity      {EVENT.NSEVERITY}
//   event_id      {EVENT.ID}
//   value         {EVENT.VALUE}
//   time          {EVENT.DATE} {EVENT.TIME}
//
// Give the media type to a user, and a trigger action with "Send message" to that user for
// problems and for recoveries (Operations and Recovery operations). causeway answers 2xx
// only once the event is stored; anything else fails the step, and Zabbix retries it
// (Attempts / Attempt interval on the media type). A retried event is answered as a
// duplicate and changes nothing.

var params = JSON.parse(value);
var fields = ['host', 'trigger_id', 'trigger_name', 'rawtext', 'severity', 'event_id', 'value', 'time'];
var event = {};
for (var i = 0; i < fields.length; i++) {
    var v = params[fields[i]];
    if (typeof v === 'string' && v !== '') {
        event[fields[i]] = v;
    }
}

var request = new HttpRequest();
request.addHeader('Content-Type: application/json');
if (params.token) {
    request.addHeader('X-Auth-Token: ' + params.token);
}
var response = request.post(params.url, JSON.stringify(event));
var status = request.getStatus();
Zabbix.log(4, '[causeway webhook] ' + status + ' ' + response);
if (status < 200 || status >= 300) {
    throw 'causeway answered ' + status + ': ' + response;
}
return 'OK';
