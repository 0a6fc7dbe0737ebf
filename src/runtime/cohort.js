// cohort.js: the Cohort browser runtime (SPEC section 5). No dependencies, no eval.
// Before the visitor chooses, it stores nothing and sends nothing: it only reveals the
// banner. Comment lines and indentation are stripped by the build (runtime::minify).
(function(){
var d=document,L,C={},B,st,U,K='cohort.consent',I='cohort.interests',
el=i=>d.getElementById(i),
each=(a,f)=>[].forEach.call(a,f),
no=()=>{};
try{L=localStorage;C=JSON.parse(el('cohort-config').textContent)}catch{}
if(!C.v)return;
var cs=!C.c&&[],E=C.e,
gpc=C.g&&navigator.globalPrivacyControl===!0;
function get(k){try{return JSON.parse(L.getItem(k))}catch{}}
function put(k,v){try{v==null?L.removeItem(k):L.setItem(k,JSON.stringify(v))}catch{}}
// The chosen cohort is the name of the one cookie_ID cookie (hosts route on its presence).
function cur(){return(d.cookie.match(/(?:^|; )cohort_([a-z0-9-]+)=/)||[])[1]}
function setCohort(k){
each(d.cookie.split('; '),x=>{x=x.split('=')[0];if(!x.indexOf('cohort_')&&x!='cohort_'+k)d.cookie=x+'=; Path=/; Max-Age=0'});
if(k)d.cookie='cohort_'+k+'=1; Path=/; SameSite=Lax; Max-Age='+C.m*864e2+(location.protocol=='https:'?'; Secure':'')}
function fresh(s){return s&&s.v===C.v&&s.p&&Object.keys(s.p)+''==Object.keys(P(no))&&Date.now()-Date.parse(s.d)<C.m*864e5}
function ev(n,x){d.dispatchEvent(new CustomEvent('cohort:'+n,{detail:x}))}
// The purposes asked for: personalization, analytics (always) and those of declared third
// parties (C.q), each answered by f(purpose). cohort:consent tells the gating and Consent
// Mode scripts.
function P(f){var p={personalization:f('personalization'),analytics:!1};each(C.q,q=>p[q]=f(q));return p}
// Receipts: failures are ignored, browsing never waits for them.
function send(m,u,b,f){E&&fetch(E+'/consent'+u,{method:m,keepalive:!0,headers:{'Content-Type':'application/json'},body:b}).then(x=>x.json()).then(f).catch(no)}
function del(r){send('DELETE','/'+encodeURIComponent(r))}
// The banner: in the page, or (default theme) a placeholder whose banner is the fragment it
// names, fetched only when it has to be shown (no choice yet, or after withdrawal).
function banner(on){var h=B&&B.dataset.cohortBanner;if(h&&on){B.dataset.cohortBanner='';frag(h,t=>{B.outerHTML=t;ui();banner(!st)})}else B&&(B.hidden=!on)}
function frag(h,f){fetch(C.b+'_cohort/f/'+h+'.html').then(r=>{if(r.ok)return r.text();throw r}).then(f).catch(no)}
function dump(){var o={},x;(x=get(K))&&(o[K]=x);(x=get(I))&&(o[I]=x);(x=cur())&&(o.cookie='cohort_'+x+'=1');return o}
function show(){
var o=el('cohort-stored'),x=dump();
if(o)o.textContent=Object.keys(x).length?JSON.stringify(x,null,2):o.dataset.empty;
if(o=el('cohort-receipt'))o.textContent=st&&st.r||o.dataset.empty}
function msg(m){var o=el('cohort-status');if(o)o.textContent=o.dataset[m]}
// Replace each slot that has a fragment for cohort k; the slot keeps its height meanwhile.
function swap(k){each(d.querySelectorAll('[data-cohort-slot]'),s=>{
var h;try{h=JSON.parse(s.dataset.cohortKeys)[k]}catch{}
if(!h||s.dataset.cohortShown==k)return;
s.style.minHeight=s.offsetHeight+'px';
frag(h,t=>{s.innerHTML=t;s.dataset.cohortShown=k})})}
// Cohort, in order: chosen on /preferences/ (st.c), utm_campaign on arrival, the cookie,
// then on-device interest counts past C.t. Counts never leave the device. The cohort list
// is one static file of the site (C.c, versioned), fetched only with personalization on,
// so before a choice nothing is requested; C.i holds only interests some cohort has.
function apply(){
var o=cur(),k=null,q,n,b=0;
if(st&&st.p.personalization){
q=get(I)||{};
if(!U){U=1;each(C.i,i=>q[i]=(q[i]|0)+1);put(I,q)}
if(!cs)return fetch(C.b+C.c).then(x=>x.json()).then(j=>apply(cs=j)).catch(no);
if('c' in st)k=st.c;else{
n=new URLSearchParams(location.search).get('utm_campaign');
each(cs,c=>{if(!k&&n&&c.campaigns.includes(n))k=c.id});
k=k||o;
if(!k)each(cs,c=>{var s=0;each(c.interests,i=>s+=q[i]|0);if(s>=C.t&&s>b){b=s;k=c.id}})}
k=cs.some(c=>c.id==k)?k:null}
else if(get(I))put(I);
setCohort(k);swap(k);if(k!=o)ev('change',{cohort:k})}
// A choice that keeps the purposes keeps the record (and its receipt); a new one is posted.
function choose(p,c){
var o=st,s=fresh(o)&&JSON.stringify(o.p)==JSON.stringify(p)&&o;
if(!s){o&&o.r&&del(o.r);s={v:C.v,p:p,r:null,d:new Date().toISOString().slice(0,10)};
send('POST','',JSON.stringify({policy_version:C.v,purposes:p,ui:C.u}),j=>{if(j.receipt)st===s?(s.r=j.receipt,put(K,s),show()):del(j.receipt)})}
if(c!=null)s.c=c;
put(K,st=s);banner(0);apply();show();ev('consent',p)}
function wipe(){put(K);put(I);setCohort()}
// Withdrawal: the cookie, both keys and the receipt go.
function withdraw(){var o=cur();st&&st.r&&del(st.r);st=null;wipe();show();banner(1);if(o)ev('change',{cohort:null})}
st=get(K);
if(!fresh(st)){if(st||cur()||get(I))wipe();st=null}
function ui(){if(B=el('cohort-banner')){
// Under GPC the banner says so: [data-cohort-gpc=show] parts appear, =hide parts go.
if(gpc)each(B.querySelectorAll('[data-cohort-gpc]'),x=>x.hidden=x.dataset.cohortGpc=='hide');
B.onclick=e=>{var a=e.target.closest('[data-cohort-consent]');if(a)choose(P(()=>a.dataset.cohortConsent=='accept'&&!gpc))}}}
ui();banner(!st);apply();show();st&&ev('consent',st.p);
var F=el('cohort-prefs');
if(F){
each(Object.keys(P(no)),q=>{if(F[q])F[q].checked=st&&st.p[q]});
F.cohort.value=cur()||st&&st.c||'';
F.onsubmit=e=>{e.preventDefault();var p=P(q=>!!F[q]&&F[q].checked);choose(p,p.personalization?F.cohort.value:'');msg('saved')};
el('cohort-delete').onclick=()=>{withdraw();F.reset();msg('deleted')};
el('cohort-export').onclick=()=>{var a=d.createElement('a');a.href=URL.createObjectURL(new Blob([JSON.stringify(dump(),null,2)],{type:'application/json'}));a.download='cohort-data.json';a.click()}}
})();
