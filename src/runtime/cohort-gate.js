// cohort-gate.js: third parties under consent (SPEC section 5). Only pages with gated
// elements load it. An element marked data-cohort-purpose stays inert until the visitor
// agrees to that purpose: then a <script type="text/plain"> is replaced by a live copy,
// a click-to-load placeholder by its frame, and data-cohort-src/srcset/href become real.
// It reads the choice cohort.js stored, and hears new ones (the cohort:consent event);
// it stores nothing and sends nothing itself. After withdrawal the stored choice is gone,
// so nothing is activated from the next page on.
(function(){
var d=document,C={},s=null,each=function(a,f){[].forEach.call(a,f)};
try{C=JSON.parse(d.getElementById('cohort-config').textContent);s=JSON.parse(localStorage.getItem('cohort.consent'))}catch(e){}
// The same test as cohort.js: this policy version, the purposes asked today, not too old.
function fresh(s){
var k=['personalization','analytics'];
each(C.q||[],function(q){if(k.indexOf(q)<0)k.push(q)});
return !!(s&&s.v===C.v&&s.p&&Object.keys(s.p)+''==k&&Date.now()-Date.parse(s.d)<C.m*864e5)}
// A click-to-load placeholder becomes the frame kept in its <template>.
function load(x){var t=x&&x.querySelector('template');if(t)x.replaceWith(t.content.cloneNode(!0))}
function live(x){
var n;
if(x.tagName=='SCRIPT'){
if(x.type!='text/plain')return;
n=d.createElement('script');
each(x.attributes,function(a){if(a.name!='type'&&a.name.indexOf('data-cohort-'))n.setAttribute(a.name,a.value)});
if(x.dataset.cohortType)n.type=x.dataset.cohortType;
if(x.src)n.async=!1;else n.text=x.text;
x.replaceWith(n)}
else if('cohortEmbed' in x.dataset)load(x);
else{each(['src','srcset','href'],function(a){var v=x.getAttribute('data-cohort-'+a);if(v!=null){x.setAttribute(a,v);x.removeAttribute('data-cohort-'+a)}});x.removeAttribute('data-cohort-purpose')}}
function on(p){each(d.querySelectorAll('[data-cohort-purpose]'),function(x){if(p&&p[x.dataset.cohortPurpose]===!0)live(x)})}
d.addEventListener('cohort:consent',function(e){on(e.detail)});
d.addEventListener('click',function(e){var b=e.target.closest&&e.target.closest('[data-cohort-load]');if(b)load(b.closest('[data-cohort-embed]'))});
if(fresh(s))on(s.p);
})();
