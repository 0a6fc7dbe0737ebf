// cohort-consent-mode.js: the Google Consent Mode v2 bridge ([privacy] google_consent_mode).
// Loaded first in <head>, before any tag: every signal starts denied; each choice the
// visitor makes (and the stored one, on each page) is passed on as an update.
(function(){
var w=window;
w.dataLayer=w.dataLayer||[];
function gtag(){w.dataLayer.push(arguments)}
if(!w.gtag)w.gtag=gtag;
function g(x){return x===!0?'granted':'denied'}
function m(p){p=p||{};return{ad_storage:g(p.marketing),ad_user_data:g(p.marketing),ad_personalization:g(p.marketing),analytics_storage:g(p.analytics),functionality_storage:g(p.functional),personalization_storage:g(p.personalization),security_storage:g(p.necessary)}}
var o=m();o.wait_for_update=500;
gtag('consent','default',o);
document.addEventListener('cohort:consent',function(e){gtag('consent','update',m(e.detail))});
})();
